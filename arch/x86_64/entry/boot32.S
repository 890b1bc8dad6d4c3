/* From GRUB's 32-bit protected mode to Swift's kmain in 64-bit long mode.
 *
 * GRUB enters x86_boot32_entry with paging off, EAX = Multiboot2 magic and EBX = the
 * physical address of the boot information. This code runs at its physical address
 * (section .boot.text is linked VMA = LMA), so every reference to a higher-half symbol
 * subtracts KERNEL_VMA. It:
 *   1. checks the magic and that the CPU has long mode (else prints a panic line),
 *   2. clears .bss (GRUB zeroes it too; we do not rely on a loader for that),
 *   3. builds the boot page tables in .bss:
 *        PML4[0]   -> identity map of 0..4 GiB (2 MiB pages), needed only until the
 *                     jump to the higher half; M1 removes it
 *        PML4[256] -> the same 4 GiB at DIRECT_MAP_BASE, the kernel's view of RAM
 *        PML4[511] -> the kernel image at KERNEL_VMA in 4 KiB pages, with the page
 *                     under the boot stack left unmapped as a guard
 *        PML4[255] -> the early heap's .bss pages again at KERNEL_HEAP_BASE, where
 *                     Swift objects get a real reference count (kernel_layout.h)
 *   4. enables PAE, long mode and paging, loads a 64-bit GDT and far-jumps to 64-bit
 *      code, then jumps to the higher half, switches to the boot stack and calls
 *      kmain(magic, info_phys). */
#include "kernel_layout.h"
#include "panic_codes.h"

#define PHYS(sym) ((sym) - KERNEL_VMA)
#define PTE_PRESENT_WRITABLE 0x3
#define PDE_LARGE_PAGE 0x83            /* present | writable | 2 MiB page */
#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_PANIC 0x11
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR4_PAE (1 << 5)
#define CR0_PE_PG 0x80000001

.section .boot.text, "ax"
.code32
.global x86_boot32_entry
x86_boot32_entry:
    cli
    cld
    /* Keep the loader's arguments where nothing below clobbers them:
     * EBP = magic, ESI = boot information (physical). */
    movl %eax, %ebp
    movl %ebx, %esi

    cmpl $MB2_BOOTLOADER_MAGIC, %ebp
    jne fail_not_multiboot2

    /* Long mode? CPUID leaf 0x80000001, EDX bit 29. */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb fail_no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc fail_no_long_mode

    /* Clear .bss: the page tables and the boot stack live there. */
    movl $PHYS(__bss_start), %edi
    movl $__bss_size, %ecx          /* absolute symbol from kernel.ld */
    xorl %eax, %eax
    rep stosb

    /* PML4: identity (slot 0) and direct map (slot 256) share one PDPT. */
    movl $(PHYS(boot_pdpt_low) + PTE_PRESENT_WRITABLE), %eax
    movl %eax, PHYS(boot_pml4)
    movl %eax, PHYS(boot_pml4) + 256 * 8
    movl $(PHYS(boot_pdpt_kernel) + PTE_PRESENT_WRITABLE), %eax
    movl %eax, PHYS(boot_pml4) + 511 * 8

    /* PDPT low: four page directories, one per GiB. */
    movl $PHYS(boot_pdpt_low), %edi
    movl $(PHYS(boot_pd_low) + PTE_PRESENT_WRITABLE), %eax
    movl $(EARLY_DIRECT_MAP_SIZE / 0x40000000), %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b

    /* Page directories low: 2048 entries of 2 MiB cover 0..4 GiB. The high half of
     * each entry stays zero (cleared with .bss). */
    movl $PHYS(boot_pd_low), %edi
    movl $PDE_LARGE_PAGE, %eax
    movl $(EARLY_DIRECT_MAP_SIZE / 0x200000), %ecx
1:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    /* KERNEL_VMA is PML4 slot 511, PDPT slot 510, PD slot 0: the kernel PD maps the
     * first 16 MiB of physical memory through BOOT_KERNEL_PAGE_TABLES page tables. */
    movl $(PHYS(boot_pd_kernel) + PTE_PRESENT_WRITABLE), %eax
    movl %eax, PHYS(boot_pdpt_kernel) + 510 * 8
    movl $PHYS(boot_pd_kernel), %edi
    movl $(PHYS(boot_pt_kernel) + PTE_PRESENT_WRITABLE), %eax
    movl $BOOT_KERNEL_PAGE_TABLES, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b

    /* Page-table entries for every 4 KiB page of the image, except the stack guard.
     * EAX = physical page, EDI = its PTE (page tables are contiguous, indexed from
     * physical 0). */
    movl $KERNEL_PHYS_BASE, %eax
1:  cmpl $PHYS(__kernel_end), %eax
    jae 3f
    cmpl $PHYS(x86_boot_stack_guard), %eax
    je 2f
    movl %eax, %edi
    shrl $12, %edi
    leal PHYS(boot_pt_kernel)(, %edi, 8), %edi
    movl %eax, (%edi)
    orl $PTE_PRESENT_WRITABLE, (%edi)
2:  addl $0x1000, %eax
    jmp 1b
3:

    /* The heap window: PML4[255] -> PDPT[0] -> PD[0] -> one page table holding the
     * early heap's pages (at most 2 MiB, asserted in kernel.ld). */
    movl $(PHYS(boot_pdpt_heap) + PTE_PRESENT_WRITABLE), %eax
    movl %eax, PHYS(boot_pml4) + 255 * 8
    movl $(PHYS(boot_pd_heap) + PTE_PRESENT_WRITABLE), %eax
    movl %eax, PHYS(boot_pdpt_heap)
    movl $(PHYS(boot_pt_heap) + PTE_PRESENT_WRITABLE), %eax
    movl %eax, PHYS(boot_pd_heap)
    movl $PHYS(boot_pt_heap), %edi
    movl $(PHYS(__early_heap_start) + PTE_PRESENT_WRITABLE), %eax
    movl $(EARLY_HEAP_SIZE / 0x1000), %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b

    /* PAE, then CR3, then EFER.LME, then paging: the order the SDM requires. */
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $PHYS(boot_pml4), %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $CR0_PE_PG, %eax
    movl %eax, %cr0

    /* Now in compatibility mode; a far jump through a 64-bit code segment enters
     * long mode proper. */
    lgdt boot_gdtr_phys
    ljmp $0x08, $boot64_low

/* Prints a panic line on COM1 (QEMU's UART works unprogrammed; on hardware the line
 * may be garbled but the halt still happens) and exits through isa-debug-exit.
 * EBX = NUL-terminated message. */
boot_fail:
    movw $COM1, %dx
1:  movb (%ebx), %al
    testb %al, %al
    jz 2f
    outb %al, %dx
    incl %ebx
    jmp 1b
2:  movw $DEBUG_EXIT_PORT, %dx
    movl $DEBUG_EXIT_PANIC, %eax
    outl %eax, %dx
3:  hlt
    jmp 3b

fail_not_multiboot2:
    movl $msg_not_multiboot2, %ebx
    jmp boot_fail
fail_no_long_mode:
    movl $msg_no_long_mode, %ebx
    jmp boot_fail

.code64
boot64_low:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $x86_boot64_high, %rax
    jmp *%rax

.section .boot.data, "a"
#define STR(x) #x
#define XSTR(x) STR(x)
msg_not_multiboot2:
    .ascii "KERNEL: panic code=", XSTR(PANIC_NOT_MULTIBOOT2)
    .asciz " reason=not started by a Multiboot2 loader\r\n"
msg_no_long_mode:
    .ascii "KERNEL: panic code=", XSTR(PANIC_NO_LONG_MODE)
    .asciz " reason=CPU has no long mode (x86-64)\r\n"
.balign 8
boot_gdtr_phys:
    .word boot_gdt_end - boot_gdt - 1
    .long PHYS(boot_gdt)

/* ---- Higher half ------------------------------------------------------------------ */
.section .text
x86_boot64_high:
    /* The outermost frame: tell debuggers' unwinders there is no caller above it. */
    .cfi_sections .debug_frame
    .cfi_startproc
    .cfi_undefined %rip
    /* Reload the GDT through its higher-half address: the identity map goes away. */
    lgdt boot_gdtr(%rip)
    leaq x86_boot_stack_top(%rip), %rsp
    call x86_seed_stack_guard  /* before any Swift frame reads the guard */
    movl %ebp, %edi            /* kmain's magic; zero-extends into RDI */
    movl %esi, %esi            /* info_phys; upper half is undefined after the switch */
    xorl %ebp, %ebp            /* end of the frame-pointer chain for backtraces */
    call kmain
1:  cli                        /* kmain never returns; if it did, stop here */
    hlt
    jmp 1b
    .cfi_endproc

.section .rodata
.balign 16
boot_gdt:
    .quad 0                    /* null */
    .quad 0x00af9a000000ffff   /* 0x08: 64-bit kernel code */
    .quad 0x00cf92000000ffff   /* 0x10: kernel data */
boot_gdt_end:
.balign 8
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

.section .bss.page_tables, "aw", @nobits
.balign 4096
boot_pml4:        .skip 4096
boot_pdpt_low:    .skip 4096
boot_pdpt_kernel: .skip 4096
boot_pd_low:      .skip 4096 * (EARLY_DIRECT_MAP_SIZE / 0x40000000)
boot_pd_kernel:   .skip 4096
boot_pt_kernel:   .skip 4096 * BOOT_KERNEL_PAGE_TABLES
boot_pdpt_heap:   .skip 4096
boot_pd_heap:     .skip 4096
boot_pt_heap:     .skip 4096
