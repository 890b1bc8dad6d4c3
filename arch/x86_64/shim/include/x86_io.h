/* The x86 instructions Swift cannot issue, as static inline functions. Nothing here
 * holds policy: callers in kernel/ decide when each instruction is safe to run. */
#ifndef APUS_X86_IO_H
#define APUS_X86_IO_H
#include <stdint.h>

static inline void x86_outb(uint16_t port, uint8_t value) {
  __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}
static inline uint8_t x86_inb(uint16_t port) {
  uint8_t value;
  __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}
static inline void x86_outw(uint16_t port, uint16_t value) {
  __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}
static inline void x86_outl(uint16_t port, uint32_t value) {
  __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}
static inline uint64_t x86_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
static inline void x86_cli(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void x86_hlt(void) { __asm__ volatile("hlt" : : : "memory"); }
/* A spin-wait hint; also a compiler barrier, so a polling loop re-reads memory that
 * an interrupt handler changes. */
static inline void x86_pause(void) { __asm__ volatile("pause" : : : "memory"); }

#endif
