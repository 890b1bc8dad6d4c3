/* M3 syscall round trip: debug_write and time_now from user space. Each answer is
 * checked here too; the kernel's own check is what prints SYSCALL: ok. */
#include <stdio.h>
#include <apus/syscall.h>

int main(void) {
  static const char message[] = "ROUNDTRIP: hello\n";
  int64_t written = apus_debug_write((const uint8_t *)message, sizeof message - 1);
  int64_t first = apus_time_now();
  int64_t second = apus_time_now();
  if (written != (int64_t)(sizeof message - 1) || first < 0 || second < first) {
    printf("ROUNDTRIP: wrong answers written=%ld first=%ld second=%ld\n", written, first, second);
    return 1;
  }
  printf("ROUNDTRIP: ok written=%ld elapsed_ns=%ld\n", written, second - first);
  return 0;
}
