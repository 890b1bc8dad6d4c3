/* make bench, from user space: the TSC counts guest instructions under -icount
 * (DESIGN.md §7), so each figure is the same on every run.
 *   null_syscall  - yield with nothing else ready: entry, generated dispatch, return
 *   process_spawn - spawn tests/child, wait for it, close the handle */
#include <stdio.h>
#include <stdint.h>
#include <apus/syscall.h>

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

int main(void) {
  enum { CALLS = 100000, SPAWNS = 50 };
  for (int i = 0; i < 1000; i++) apus_yield();  /* warm */
  uint64_t start = rdtsc();
  for (int i = 0; i < CALLS; i++) apus_yield();
  uint64_t calls = rdtsc() - start;
  printf("BENCH null_syscall ticks_per_op=%lu\n", calls / CALLS);

  static const char path[] = "tests/child";
  start = rdtsc();
  for (int i = 0; i < SPAWNS; i++) {
    int64_t child = apus_process_spawn((const uint8_t *)path, sizeof path - 1, (const uint8_t *)path, sizeof path);
    struct apus_process_status status;
    if (apus_is_error(child) || apus_is_error(apus_process_wait((apus_handle_t)child, &status))) {
      printf("BENCH process_spawn failed\n");
      return 1;
    }
    apus_handle_close((apus_handle_t)child);
  }
  printf("BENCH process_spawn ticks_per_op=%lu\n", (rdtsc() - start) / SPAWNS);
  return 0;
}
