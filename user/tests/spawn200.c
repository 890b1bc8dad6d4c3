/* M3 process lifecycle: 200 processes spawned, run and reaped, one at a time. */
#include <stdio.h>
#include <string.h>
#include <apus/syscall.h>

int main(void) {
  static const char path[] = "tests/child";
  for (int i = 0; i < 200; i++) {
    int64_t child = apus_process_spawn((const uint8_t *)path, sizeof path - 1, (const uint8_t *)path, sizeof path);
    if (apus_is_error(child)) { printf("SPAWN: start %d failed: %ld\n", i, -child); return 1; }
    struct apus_process_status status;
    if (apus_is_error(apus_process_wait((apus_handle_t)child, &status)) || status.reason != APUS_EXIT_REASON_EXITED || status.code != 7) {
      printf("SPAWN: child %d ended wrong\n", i);
      return 1;
    }
    if (apus_is_error(apus_handle_close((apus_handle_t)child))) { printf("SPAWN: close %d failed\n", i); return 1; }
  }
  printf("SPAWN: 200 processes spawned and reaped\n");
  return 0;
}
