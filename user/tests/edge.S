/* Returns from a system call to the first address above user space.
 *
 * The `syscall` instruction is placed so that it ends exactly at USER_SPACE_END
 * (boot/user-edge.ld puts the .edge section on the last user page), so its return
 * address is the kernel's heap window. The kernel must take its IRETQ return path
 * (SYSRET is reserved for user return addresses), arrive back in ring 3 at that
 * address, and the fetch from a supervisor page must kill this process alone:
 *   KERNEL: killed pid=N reason=page fault addr=0x7f8000000000 rip=0x7f8000000000 */
.text
.global _start
_start:
    movabsq $edge, %rax
    jmp *%rax

.section .edge, "ax"
    .org 0xff9                  /* 5-byte mov + 2-byte syscall end at 0x1000 */
edge:
    movl $2, %eax               /* yield: any call that returns */
    syscall
