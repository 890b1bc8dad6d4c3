/* The first user instruction of every C program. The kernel starts a process with
 * rdi = its argument block (NUL-separated strings, copied to the top of its stack)
 * and rsi = the block's length, and rsp 16-byte aligned. _start hands both to
 * __libc_start (libc/start.c), which calls main and exits with its result. */
.text
.global _start
.type _start, @function
_start:
    xorl %ebp, %ebp            /* end of the frame-pointer chain */
    call __libc_start
    ud2                        /* __libc_start never returns */
