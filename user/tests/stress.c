/* Issue 9's stress test: 1,000 rounds of spawn, kill while busy, and close from
 * another thread while this one waits. The boot's MM lines then show free pages, heap
 * bytes and kernel objects exactly where they started. */
#include "testlib.h"

static volatile int64_t victim;
static volatile int round_ready, round_closed;

/* Kills the round's busy process and closes its handle, from another thread. */
static void killer(uint64_t rounds) {
  for (uint64_t i = 0; i < rounds; i++) {
    while (round_ready <= (int)i) apus_yield();
    apus_yield();  /* let the waiter block on it first, most rounds */
    if (apus_process_kill((apus_handle_t)victim) != 0) test_failures++;
    if (apus_handle_close((apus_handle_t)victim) != 0) test_failures++;
    round_closed = (int)i + 1;
  }
  apus_thread_exit(0);
}

int main(int argc, char **argv) {
  test_name = "STRESS";
  int rounds = argc > 1 ? 0 : 1000;
  for (const char *p = argc > 1 ? argv[1] : ""; *p; p++) rounds = rounds * 10 + (*p - '0');
  if (apus_is_error(start_thread(killer, (uint64_t)rounds))) return 2;
  int killed = 0;
  for (int i = 0; i < rounds; i++) {
    victim = start_case("tests/spinner", i % 2 ? "threads" : "spin");
    if (apus_is_error(victim)) {
      printf("STRESS: round %d: spawn failed: error %ld\n", i, -victim);
      return 1;
    }
    int64_t handle = victim;
    round_ready = i + 1;
    struct apus_process_status status;
    int64_t got = apus_process_wait((apus_handle_t)handle, &status);
    /* Either the wait held the process (killed) or the close came first (bad_handle). */
    if (got == 0 && status.reason == APUS_EXIT_REASON_KILLED) killed++;
    else if (got != ERR(APUS_ERR_BAD_HANDLE)) test_failures++;
    while (round_closed <= i) apus_yield();
  }
  test_checks = rounds;
  printf("STRESS: %d rounds, %d waits saw the kill\n", rounds, killed);
  return finish("spawn, kill and close");
}
