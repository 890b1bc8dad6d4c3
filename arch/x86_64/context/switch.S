/* Switching kernel threads. A thread that is not running is a saved stack pointer:
 * its stack holds the callee-saved registers x86_context_switch pushed, under the
 * return address into whoever called it. Caller-saved registers need no saving (the
 * C ABI lets the call clobber them), and the flags' IF bit is the scheduler's
 * business: switches happen with interrupts off. */

.text

/* void x86_context_switch(uint64_t *save_rsp, uint64_t load_rsp)
 * Saves the current thread's rsp to *save_rsp and resumes the thread whose saved rsp
 * is load_rsp. Returns when some other switch resumes the saving thread. */
.global x86_context_switch
.type x86_context_switch, @function
x86_context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* Where a new thread's first switch "returns" to: its initial stack (built by
 * Scheduler.spawn, kernel/sched/Scheduler.swift) holds zeroed callee-saved registers
 * and this address. rbp is 0, so a backtrace ends here. kernel_thread_entry never
 * returns. */
.global x86_thread_start
.type x86_thread_start, @function
x86_thread_start:
    xorl %ebp, %ebp
    call kernel_thread_entry
    ud2
