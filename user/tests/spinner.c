/* A busy child for the tests that kill, end or interrupt a process running user code:
 *   spin     - spins forever in user mode, never making a system call;
 *   threads  - the same on four threads;
 *   exit     - a second thread spins forever while the first calls process_exit(5):
 *              the spinning thread must not keep the process alive;
 *   seconds  - (the default) spins for about five seconds of guest time (time_now
 *              every 2^20 rounds), then exits 0: a target for an NMI from the host. */
#include "testlib.h"

static _Noreturn void spin_forever(uint64_t unused) {
  (void)unused;
  for (volatile uint64_t i = 0;; i++) {}
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "seconds";  /* init passes no argument */
  if (strcmp(mode, "threads") == 0) {
    for (int i = 0; i < 3; i++) start_thread(spin_forever, 0);
    spin_forever(0);
  }
  if (strcmp(mode, "exit") == 0) {
    if (apus_is_error(start_thread(spin_forever, 0))) return 1;
    apus_yield();  /* let it get going */
    apus_process_exit(5);
  }
  if (strcmp(mode, "seconds") == 0) {
    printf("SPINNER: spinning\n");
    int64_t until = apus_time_now() + 5000000000ll;
    for (;;) {
      for (volatile uint64_t i = 0; i < (1u << 20); i++) {}
      if (apus_time_now() > until) break;
    }
    printf("SPINNER: done\n");
    return 0;
  }
  spin_forever(0);
}
