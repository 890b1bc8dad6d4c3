/* memcpy, memmove and memset with `rep movsb` / `rep stosb`: short, fast on every CPU
 * with ERMSB, and — unlike the same loops written in Swift or C — immune to the
 * optimizer turning the loop back into a call to the function being defined. */
.text

.global memcpy
.type memcpy, @function
memcpy:
    movq %rdi, %rax
    movq %rdx, %rcx
    rep movsb
    ret

.global memset
.type memset, @function
memset:
    movq %rdi, %r8
    movl %esi, %eax
    movq %rdx, %rcx
    rep stosb
    movq %r8, %rax
    ret

/* Overlapping copies with dst above src go backwards, with the direction flag set for
 * exactly that instruction (the ABI requires DF clear on return). */
.global memmove
.type memmove, @function
memmove:
    movq %rdi, %rax
    movq %rdx, %rcx
    cmpq %rsi, %rdi
    jbe 1f
    leaq (%rsi, %rdx), %r8
    cmpq %r8, %rdi
    jae 1f
    leaq -1(%rsi, %rdx), %rsi
    leaq -1(%rdi, %rdx), %rdi
    std
    rep movsb
    cld
    ret
1:  rep movsb
    ret
