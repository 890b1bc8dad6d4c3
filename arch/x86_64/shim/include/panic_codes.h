/* Panic codes, shared by the entry asm (which can fail before Swift runs) and Swift's
 * PanicCode. The number is what `KERNEL: panic code=0x...` prints; keep them stable so
 * a log line can be matched to its cause across versions. */
#ifndef APUS_PANIC_CODES_H
#define APUS_PANIC_CODES_H

#define PANIC_NOT_MULTIBOOT2      0x01 /* entered without the Multiboot2 magic */
#define PANIC_NO_LONG_MODE        0x02 /* CPU lacks long mode */
#define PANIC_TEST_REQUESTED      0x03 /* test=panic on the command line */
#define PANIC_MALFORMED_BOOT_INFO 0x04 /* the Multiboot2 tag list failed a bounds check */
#define PANIC_OUT_OF_MEMORY       0x05 /* a kernel heap request could not be met */
#define PANIC_HEAP_CORRUPTION     0x06 /* free() of a pointer the heap did not hand out */
#define PANIC_STACK_SMASHED       0x07 /* __stack_chk_fail: a stack canary was overwritten */
#define PANIC_SELF_CHECK_FAILED   0x08 /* a boot self-check saw a wrong result */
#define PANIC_KERNEL_FAULT        0x09 /* a CPU exception in kernel mode (#PF, #GP, #UD, #DE, ...) */
#define PANIC_DOUBLE_FAULT        0x0a /* #DF, reported from its IST stack */
#define PANIC_UNEXPECTED_TRAP     0x0b /* an interrupt vector nobody handles */
#define PANIC_OUT_OF_PAGES        0x0c /* the physical page allocator is exhausted */
#define PANIC_BAD_MEMORY_MAP      0x0d /* the memory map leaves nothing to run on */

#endif
