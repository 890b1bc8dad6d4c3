/* What the make bench programs share: the guest TSC (instructions under -icount) and
 * the kernel's idle ticks (system_info), which split a disk figure into our path and
 * the wait for QEMU's device. */
#ifndef APUS_BENCHLIB_H
#define APUS_BENCHLIB_H
#include <stdint.h>
#include <apus/syscall.h>

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t idle_ticks(void) {
  struct apus_system_info info;
  apus_system_info(&info);
  return info.idle_ticks;
}
#endif
