/* The kernel's fixed virtual layout, shared by boot/kernel.ld (run through the C
 * preprocessor), the entry asm and Swift (imported through the X86Shim module), so each
 * address is written exactly once. Plain hex without suffixes: ld.lld reads this too. */
#ifndef APUS_KERNEL_LAYOUT_H
#define APUS_KERNEL_LAYOUT_H

/* Physical load address of the kernel image: 1 MiB, above the BIOS area. */
#define KERNEL_PHYS_BASE 0x100000

/* The higher-half window the kernel is linked at (-mcmodel=kernel: top 2 GiB). */
#define KERNEL_VMA 0xffffffff80000000

/* Physical memory is mapped here (PML4 slot 256), so the kernel reads boot
 * information and, later, page tables without identity mappings. */
#define DIRECT_MAP_BASE 0xffff800000000000

/* How much physical memory the boot page tables direct-map: 4 GiB in 2 MiB pages.
 * KernelAddressSpace then replaces them with a map sized from the memory map. */
#define EARLY_DIRECT_MAP_SIZE 0x100000000

/* The boot page tables map the kernel image with 4 KiB pages (so the stack guard
 * page can be left out) through this many page tables: 8 x 2 MiB = 16 MiB. */
#define BOOT_KERNEL_PAGE_TABLES 8

/* The kernel heap window: PML4 slot 255, the top of the *lower* half. Embedded
 * Swift treats an object whose address has bit 63 set as immortal (swift_retain and
 * swift_release do nothing), and every higher-half address has that bit; objects
 * allocated there would never be freed. So the heap behind Swift objects lives here,
 * mapped supervisor-only, and user address spaces end below it. */
#define KERNEL_HEAP_BASE 0x00007f8000000000

/* User space is everything below the heap window: PML4 slots 0-254. */
#define USER_SPACE_END KERNEL_HEAP_BASE

/* The heap window's size: 1 GiB of virtual space (its first EARLY_HEAP_SIZE bytes are
 * the bootstrap arena). A bitmap of HEAP_WINDOW_SIZE / 4096 bits, reserved in .bss,
 * tracks which of its pages are in use. */
#define HEAP_WINDOW_SIZE 0x40000000

/* Kernel stacks (threads, IST): slots of KERNEL_STACK_SLOT_SIZE bytes from here; each
 * slot maps KERNEL_STACK_SIZE bytes at its top and leaves the rest unmapped, so an
 * overflow runs into a guard gap. PML4 slot 510. */
#define KERNEL_STACKS_BASE 0xffffff0000000000
#define KERNEL_STACK_SLOT_SIZE 0x10000  /* 64 KiB */
#define KERNEL_STACK_SIZE 0x4000        /* 16 KiB */
#define KERNEL_STACK_SLOTS 4096

/* Device registers (LAPIC, IOAPIC, later virtio) are mapped uncached here, one page
 * at a time, never through the cached direct map. PML4 slot 509. */
#define KERNEL_MMIO_BASE 0xfffffe8000000000
#define KERNEL_MMIO_SIZE 0x40000000

#define BOOT_STACK_SIZE 0x8000  /* 32 KiB */
/* The early heap: 1 MiB of .bss, mapped at KERNEL_HEAP_BASE by one boot page table.
 * M1 keeps the window and backs it with the page allocator. */
#define EARLY_HEAP_SIZE 0x100000

#if !defined(__ASSEMBLER__) && !defined(APUS_LINKER_SCRIPT)
#include <stdint.h>
/* Addresses the linker script defines; read through functions because Swift cannot
 * name a symbol's address directly. */
extern char __kernel_start[], __kernel_end[], __bss_start[], __bss_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[], __data_start[];
extern char __early_heap_start[], __early_heap_end[], __heap_window_bitmap[];
extern char x86_boot_stack_guard[], x86_boot_stack_top[];
extern char x86_trap_stubs_start[], x86_trap_stubs_end[];

static inline uintptr_t layout_kernel_start(void) { return (uintptr_t)__kernel_start; }
static inline uintptr_t layout_kernel_end(void) { return (uintptr_t)__kernel_end; }
/* Physical address of the early heap's backing store (it is .bss in the image). */
static inline uintptr_t layout_early_heap_physical(void) {
  return (uintptr_t)__early_heap_start - KERNEL_VMA;
}
static inline uintptr_t layout_text_start(void) { return (uintptr_t)__text_start; }
static inline uintptr_t layout_text_end(void) { return (uintptr_t)__text_end; }
static inline uintptr_t layout_rodata_start(void) { return (uintptr_t)__rodata_start; }
static inline uintptr_t layout_rodata_end(void) { return (uintptr_t)__rodata_end; }
static inline uintptr_t layout_data_start(void) { return (uintptr_t)__data_start; }
static inline uintptr_t layout_heap_window_bitmap(void) { return (uintptr_t)__heap_window_bitmap; }
static inline uintptr_t layout_trap_stubs_start(void) { return (uintptr_t)x86_trap_stubs_start; }
static inline uintptr_t layout_trap_stubs_end(void) { return (uintptr_t)x86_trap_stubs_end; }
static inline uintptr_t layout_boot_stack_guard(void) { return (uintptr_t)x86_boot_stack_guard; }
static inline uintptr_t layout_boot_stack_top(void) { return (uintptr_t)x86_boot_stack_top; }
#endif

#endif
