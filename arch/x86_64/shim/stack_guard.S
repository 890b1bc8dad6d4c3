/* The stack protector's guard word. It lives here, not in Swift, because it must be
 * seeded (x86_seed_stack_guard, called by the entry asm) before the first Swift frame
 * that checks it exists: reseeding under a live frame would fail that frame's check. */
.data
.balign 8
.global __stack_chk_guard
__stack_chk_guard:
    .quad 0x595e9fbd94fda766

.text
.global x86_seed_stack_guard
.type x86_seed_stack_guard, @function
x86_seed_stack_guard:
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    xorq %rax, __stack_chk_guard(%rip)
    ret
