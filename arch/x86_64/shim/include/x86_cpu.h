/* Privileged x86-64 instructions Swift cannot issue: control registers, MSRs, CPUID,
 * descriptor tables, TLB maintenance, and the instructions test hooks use to raise
 * exceptions on purpose. Static inline, no policy. */
#ifndef APUS_X86_CPU_H
#define APUS_X86_CPU_H
#include <stdint.h>

static inline uint64_t x86_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void x86_write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline uint64_t x86_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t x86_read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void x86_write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline uint64_t x86_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void x86_write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

static inline uint64_t x86_rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
static inline void x86_wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* CPUID leaf/subleaf; returns the register selected by `which` (0=eax 1=ebx 2=ecx 3=edx). */
static inline uint32_t x86_cpuid(uint32_t leaf, uint32_t subleaf, int which) {
  uint32_t a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(subleaf));
  return which == 0 ? a : which == 1 ? b : which == 2 ? c : d;
}

static inline void x86_invlpg(uint64_t address) {
  __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory");
}

/* Descriptor tables: base is a virtual address, limit is size - 1. */
static inline void x86_lgdt(uint64_t base, uint16_t limit) {
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } r = { limit, base };
  __asm__ volatile("lgdt %0" : : "m"(r) : "memory");
}
static inline void x86_lidt(uint64_t base, uint16_t limit) {
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } r = { limit, base };
  __asm__ volatile("lidt %0" : : "m"(r) : "memory");
}
static inline void x86_ltr(uint16_t selector) { __asm__ volatile("ltr %0" : : "r"(selector)); }

/* Reload CS (far return) and the data segment registers after a new GDT. */
static inline void x86_reload_segments(uint16_t code, uint16_t data) {
  __asm__ volatile(
      "pushq %q0\n\t"
      "leaq 1f(%%rip), %%rax\n\t"
      "pushq %%rax\n\t"
      "lretq\n"
      "1:\n\t"
      "movw %w1, %%ds\n\t"
      "movw %w1, %%es\n\t"
      "movw %w1, %%ss\n\t"
      : : "r"((uint64_t)code), "r"(data) : "rax", "memory");
}

static inline uint64_t x86_read_rbp(void) { uint64_t v; __asm__ volatile("mov %%rbp, %0" : "=r"(v)); return v; }

/* Test hooks raise exceptions on purpose. */
static inline void x86_int3(void) { __asm__ volatile("int3"); }
static inline uint64_t x86_divide(uint64_t dividend, uint64_t divisor) {
  uint64_t quotient, remainder;
  __asm__ volatile("divq %4" : "=a"(quotient), "=d"(remainder) : "a"(dividend), "d"(0), "r"(divisor));
  return quotient;
}

/* Interrupt flag: read, disable-and-remember, restore. */
static inline uint64_t x86_read_flags(void) {
  uint64_t flags;
  __asm__ volatile("pushfq; popq %0" : "=r"(flags) : : "memory");
  return flags;
}
static inline void x86_sti(void) { __asm__ volatile("sti" : : : "memory"); }
/* Enable interrupts and halt until one arrives, with no window between the two. */
static inline void x86_sti_hlt(void) { __asm__ volatile("sti; hlt" : : : "memory"); }

/* Memory-mapped device registers: volatile 32-bit accesses. */
static inline uint32_t x86_mmio_read32(uint64_t address) {
  return *(volatile uint32_t *)(uintptr_t)address;
}
static inline void x86_mmio_write32(uint64_t address, uint32_t value) {
  *(volatile uint32_t *)(uintptr_t)address = value;
}

/* FPU/SSE state (512-byte, 16-aligned area). */
static inline void x86_fxsave(void *area) { __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory"); }
static inline void x86_fxrstor(void *area) { __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory"); }

/* Atomic exchange: the spinlock's word. */
static inline uint32_t x86_xchg32(uint32_t *word, uint32_t value) {
  __asm__ volatile("xchgl %0, %1" : "+r"(value), "+m"(*word) : : "memory");
  return value;
}

/* xmm0, for the test that FPU/SSE state survives a switch (the kernel itself never
 * uses SSE; the register is named in the asm, so no SSE codegen is needed). */
static inline void x86_set_xmm0(uint64_t value) { __asm__ volatile("movq %0, %%xmm0" : : "r"(value)); }
static inline uint64_t x86_get_xmm0(void) { uint64_t v; __asm__ volatile("movq %%xmm0, %0" : "=r"(v)); return v; }

/* Context switch (arch/x86_64/context/switch.S). */
void x86_context_switch(uint64_t *save_rsp, uint64_t load_rsp);
extern char x86_thread_start[];
static inline uint64_t x86_thread_start_address(void) { return (uint64_t)(uintptr_t)x86_thread_start; }

#endif
