/* The Multiboot2 header GRUB looks for in the first 32 KiB of kernel.elf. It asks for
 * a 32-bit protected-mode entry at a physical address (the ELF entry is a higher-half
 * address GRUB could not jump to) and for page-aligned modules, so the initrd can be
 * mapped without copying. Spec: Multiboot2 §3.1. */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

.section .multiboot2, "a"
.balign 8
mb2_header_start:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header_start
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))

    /* Entry address tag (type 3): where GRUB jumps, in 32-bit protected mode. */
    .balign 8
    .short 3, 0
    .long 12
    .long x86_boot32_entry

    /* Module alignment tag (type 6): modules start on page boundaries. */
    .balign 8
    .short 6, 0
    .long 8

    /* End tag. */
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:
