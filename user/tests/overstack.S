/* A program the loader must refuse: its .stackarea segment lies where the kernel puts
 * every process's stack (boot/user-overstack.ld). Were it loaded, it would exit 0. */
.text
.global _start
_start:
    movl $6, %eax               /* process_exit; never reached */
    xorl %edi, %edi
    syscall

.section .stackarea, "aw"
    .quad 0
