/* The SYSCALL instruction lands here (IA32_LSTAR) with interrupts masked (FMASK),
 * rcx = user rip, r11 = user rflags, rsp still the user's. Steps:
 *   1. swapgs: GS now addresses this CPU's x86_percpu block;
 *   2. switch to the current thread's kernel stack (percpu.kernel_rsp);
 *   3. save a struct x86_syscall_frame (syscall_frame.h) and call Swift's
 *      x86_syscall_dispatch(frame), which returns rax;
 *   4. restore the argument registers and r12/r13, which the register IPC calls
 *      (ipc_call_fast, ipc_reply_recv_fast) use for message words and which the
 *      kernel may rewrite in the frame (the ABI preserves all but rcx and r11), and
 *      leave with SYSRET — or IRETQ if the return rip is not a user address, where
 *      SYSRET would fault in ring 0 with the user's rsp. */
#include "kernel_layout.h"
#include "syscall_frame.h"

#define USER_DATA (0x20 | 3)
#define USER_CODE (0x28 | 3)

.text
.global x86_syscall_entry
.type x86_syscall_entry, @function
x86_syscall_entry:
    swapgs
    movq %rsp, %gs:PERCPU_USER_RSP
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    pushq %gs:PERCPU_USER_RSP   /* frame.rsp */
    pushq %r11                  /* frame.rflags */
    pushq %rcx                  /* frame.rip */
    pushq %r13                  /* r12, r13: the register IPC calls' extra message words */
    pushq %r12
    pushq %r9
    pushq %r8
    pushq %r10
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rax                  /* frame.number; rsp = &frame, 16-byte aligned */
    movq %rsp, %rdi
    pushq %rbp                  /* the user's rbp; 0 ends kernel backtraces here */
    subq $8, %rsp               /* keep the call 16-byte aligned */
    xorl %ebp, %ebp
    sti
    call x86_syscall_dispatch
    cli
    addq $8, %rsp
    popq %rbp
    addq $8, %rsp               /* frame.number: rax holds the result instead */
    popq %rdi
    popq %rsi
    popq %rdx
    popq %r10
    popq %r8
    popq %r9
    popq %r12
    popq %r13
    /* Stack now: [rip][rflags][rsp]. A return address outside user space takes the
     * IRETQ road (rcx is about to be reloaded either way). */
    movabsq $USER_SPACE_END, %rcx
    cmpq %rcx, (%rsp)
    jae 1f
    popq %rcx
    popq %r11
    popq %rsp                   /* the user stack */
    swapgs
    sysretq
1:  popq %rcx                   /* rip; [rflags][rsp] remain */
    movq 8(%rsp), %r11          /* user rsp */
    pushq $USER_DATA            /* [ss][rflags][rsp] */
    pushq %r11                  /* [rsp][ss][rflags][rsp] */
    pushq 16(%rsp)              /* [rflags][rsp][ss]... */
    pushq $USER_CODE
    pushq %rcx                  /* [rip][cs][rflags][rsp][ss] */
    movq 16(%rsp), %r11         /* the ABI says r11 = rflags after a syscall */
    swapgs
    iretq

/* SYSCALL from 32-bit compatibility mode lands here (IA32_CSTAR). The GDT offers no
 * 32-bit user code segment, so this should be unreachable; if it is reached, the
 * process dies: swapgs, the thread's kernel stack, x86_syscall_compat(user rip),
 * which never returns. */
.global x86_syscall_compat_entry
.type x86_syscall_compat_entry, @function
x86_syscall_compat_entry:
    swapgs
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    movl %ecx, %edi             /* the 32-bit return address */
    xorl %ebp, %ebp
    call x86_syscall_compat
    ud2

/* Enter ring 3 for the first time: a new process's or thread's first instruction. */
.global x86_enter_user
.type x86_enter_user, @function
x86_enter_user:
    cli
    pushq $USER_DATA            /* ss */
    pushq %rsi                  /* rsp */
    pushq $0x202                /* rflags: IF, reserved bit 1 */
    pushq $USER_CODE            /* cs */
    pushq %rdi                  /* rip */
    movq %rdx, %rdi
    movq %rcx, %rsi
    xorl %eax, %eax             /* no kernel values leak into user registers */
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    swapgs                      /* GS: the user's */
    iretq

/* Copies to or from user memory. A page fault anywhere between x86_user_copy_start
 * and x86_user_copy_end on a user address resumes at x86_user_copy_fault
 * (ExceptionReport.pageFault), which makes the copy return 1. */
.global x86_copy_user, x86_user_copy_start, x86_user_copy_end, x86_user_copy_fault
.type x86_copy_user, @function
x86_user_copy_start:
x86_copy_user:
    cmpb $0, x86_smap_enabled(%rip)
    je 1f
    stac                        /* SMAP: allow supervisor access to user pages */
1:  movq %rdx, %rcx              /* eight bytes at a time, then the last 0-7 */
    shrq $3, %rcx
    rep movsq
    movl %edx, %ecx
    andl $7, %ecx
    rep movsb
    xorl %eax, %eax
    jmp 2f
x86_user_copy_fault:
    movl $1, %eax
2:  cmpb $0, x86_smap_enabled(%rip)
    je 3f
    clac
3:  ret
x86_user_copy_end:

.data
.global x86_smap_enabled
x86_smap_enabled: .byte 0

.bss
.balign 64
.global x86_percpu0
x86_percpu0: .skip 16
