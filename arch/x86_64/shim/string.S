/* memcpy, memmove and memset with string instructions: short, fast on every CPU, and
 * — unlike the same loops written in Swift or C — immune to the optimizer turning the
 * loop back into a call to the function being defined. The forward copies and memset
 * move eight bytes per iteration (`rep movsq` / `rep stosq`) and then the last 0–7:
 * under QEMU's -icount, which `make bench` measures with, every iteration of a `rep`
 * counts as an instruction, so a page zeroed byte by byte cost 4,096 ticks. */
.text

.global memcpy
.type memcpy, @function
memcpy:
    movq %rdi, %rax
    movq %rdx, %rcx
    shrq $3, %rcx
    rep movsq
    movl %edx, %ecx
    andl $7, %ecx
    rep movsb
    ret

.global memset
.type memset, @function
memset:
    movq %rdi, %r8
    movzbl %sil, %eax
    movabsq $0x0101010101010101, %rcx
    imulq %rcx, %rax            /* the byte in all eight lanes */
    movq %rdx, %rcx
    shrq $3, %rcx
    rep stosq
    movl %edx, %ecx
    andl $7, %ecx
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
1:  jmp memcpy
