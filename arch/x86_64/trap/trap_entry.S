/* The 256 interrupt and exception entry stubs and their common path. Each stub makes
 * the stack look the same (pushing a zero where the CPU pushes no error code), pushes
 * its vector and jumps to trap_common, which saves every general register as a
 * struct x86_trap_frame (trap_frame.h), calls Swift's x86_trap_dispatch(frame), then
 * restores and returns with iretq. Nothing here decides anything. */
#include "trap_frame.h"

.text
.global x86_trap_stubs_start
.balign 16
x86_trap_stubs_start:
.set vector, 0
.rept 256
    .balign 16
    /* Vectors for which the CPU pushes an error code (SDM Vol. 3, 6.15) already
     * have one on the stack; every other stub pushes a zero in its place. */
    .if !((vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30))
    pushq $0
    .endif
    pushq $vector
    jmp trap_common
    .set vector, vector + 1
.endr
.balign 16
.global x86_trap_stubs_end
x86_trap_stubs_end:

/* Stubs are 16-byte aligned and at most 16 bytes long, so stub N is at
 * x86_trap_stubs_start + 16 * N (checked at boot by the IDT code). */

trap_common:
    /* From ring 3, GS holds the user's base: swap in the kernel's (and back on the
     * way out), so "in the kernel, GS is the per-CPU block" always holds. */
    testb $3, 24(%rsp)          /* cs, above vector, error code and rip */
    jz 1f
    swapgs
    /* Flags the gate does not clear stay the user's: AC would lift SMAP for the
     * kernel, DF would break the C ABI. Start from a clean RFLAGS (IF stays off). */
    pushq $2
    popfq
1:  pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld                         /* the C ABI requires DF clear */
    movq %rsp, %rdi             /* x86_trap_dispatch(struct x86_trap_frame *) */
    /* Align the stack for the call; the frame pointer chain continues through the
     * interrupted code's rbp, so backtraces cross the trap. */
    movq %rsp, %rbx
    andq $-16, %rsp
    call x86_trap_dispatch
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp              /* vector and error code */
    testb $3, 8(%rsp)           /* returning to ring 3? */
    jz 2f
    swapgs
2:  iretq
