/* What the SYSCALL entry (arch/x86_64/syscall/syscall_entry.S) saves on the kernel
 * stack, in memory order, and the per-CPU block it reaches through GS. Swift reads
 * both through these definitions. */
#ifndef APUS_SYSCALL_FRAME_H
#define APUS_SYSCALL_FRAME_H

#define PERCPU_KERNEL_RSP 0   /* top of the current thread's kernel stack */
#define PERCPU_USER_RSP 8     /* scratch: the user rsp during entry */

#define SYSCALL_FRAME_RIP_OFFSET (9 * 8)

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>

struct x86_syscall_frame {
  uint64_t number;                      /* rax */
  uint64_t rdi, rsi, rdx, r10, r8, r9;  /* arguments, restored on return */
  uint64_t r12, r13;                    /* restored on return: register IPC's words */
  uint64_t rip;                         /* rcx: where syscall returns to */
  uint64_t rflags;                      /* r11 */
  uint64_t rsp;                         /* the user stack */
};
_Static_assert(offsetof(struct x86_syscall_frame, rip) == SYSCALL_FRAME_RIP_OFFSET, "syscall frame");

struct x86_percpu {
  uint64_t kernel_rsp;
  uint64_t user_rsp;
};
_Static_assert(offsetof(struct x86_percpu, user_rsp) == PERCPU_USER_RSP, "percpu");

extern struct x86_percpu x86_percpu0;
static inline struct x86_percpu *x86_percpu_this(void) { return &x86_percpu0; }

extern char x86_syscall_entry[], x86_syscall_compat_entry[], x86_user_copy_start[], x86_user_copy_end[], x86_user_copy_fault[];
static inline uint64_t x86_syscall_entry_address(void) { return (uint64_t)(uintptr_t)x86_syscall_entry; }
static inline uint64_t x86_syscall_compat_entry_address(void) { return (uint64_t)(uintptr_t)x86_syscall_compat_entry; }
static inline uint64_t x86_user_copy_start_address(void) { return (uint64_t)(uintptr_t)x86_user_copy_start; }
static inline uint64_t x86_user_copy_end_address(void) { return (uint64_t)(uintptr_t)x86_user_copy_end; }
static inline uint64_t x86_user_copy_fault_address(void) { return (uint64_t)(uintptr_t)x86_user_copy_fault; }

/* Copies between kernel and user memory; returns 0, or 1 if a page fault stopped it
 * (the fault handler resumes at x86_user_copy_fault). Range checks come first, in
 * Swift. */
uint64_t x86_copy_user(void *destination, const void *source, uint64_t count);
/* Leaves the kernel for ring 3 at rip with rsp, rdi = arg0, rsi = arg1. */
_Noreturn void x86_enter_user(uint64_t rip, uint64_t rsp, uint64_t arg0, uint64_t arg1);
/* Set when the CPU has SMAP and it is on: the copy routines bracket with stac/clac. */
extern uint8_t x86_smap_enabled;
static inline void x86_set_smap_enabled(uint8_t on) { x86_smap_enabled = on; }
#endif

#endif
