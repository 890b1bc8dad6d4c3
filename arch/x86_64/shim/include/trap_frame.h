/* The registers a trap stub saves, in memory order (lowest address first). The asm in
 * arch/x86_64/trap/trap_entry.S pushes them to match; Swift reads them through this
 * struct. Changing one without the other is caught by the assertions below and by
 * TRAP_FRAME_SIZE, which the asm uses. */
#ifndef APUS_TRAP_FRAME_H
#define APUS_TRAP_FRAME_H

#define TRAP_FRAME_SIZE (22 * 8)
#define TRAP_FRAME_VECTOR_OFFSET (15 * 8)

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>

struct x86_trap_frame {
  /* Saved by the common entry, last pushed first. */
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  /* Pushed by the per-vector stub (error_code: by the CPU for some vectors). */
  uint64_t vector, error_code;
  /* Pushed by the CPU. */
  uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(sizeof(struct x86_trap_frame) == TRAP_FRAME_SIZE, "trap frame size");
_Static_assert(offsetof(struct x86_trap_frame, vector) == TRAP_FRAME_VECTOR_OFFSET, "trap frame vector");
#endif

#endif
