/* endpoint_timer (tests/ipc/test_endpoint_timers.py): a deadline posts its key on the
 * endpoint as an interrupt message, not before the deadline and within a few ticks of
 * it; keys fire in deadline order; re-arming moves a deadline, 0 cancels; bad
 * arguments are errors; the 4-per-endpoint limit holds and frees again; timers are
 * the endpoint's own, so one program arming many (more than the old system-wide table
 * of 64 held) does not stop another program's; a timer left armed on a closed
 * endpoint fires into nothing. */
#include "testlib.h"

#define MS 1000000ull

static uint64_t now(void) { return (uint64_t)apus_time_now(); }

/* `tests/timers other`: a program of its own arms one timer on its own endpoint while
 * the parent holds 97 armed; exits 0 when it fired, not early and not much late. */
static int other_program(void) {
  apus_handle_t own = (apus_handle_t)apus_endpoint_create();
  uint64_t start = now();
  if (apus_endpoint_timer(own, 2, start + 30 * MS) != 0) return 2;
  if (wait_bits(own) != 1 << 2) return 3;
  uint64_t waited = now() - start;
  if (waited < 30 * MS || waited >= 500 * MS) return 4;
  printf("TIMERS: another program's timer fired after %lu us\n", waited / 1000);
  return 0;
}

int main(int argc, char **argv) {
  test_name = "TIMERS";
  if (argc > 1 && strcmp(argv[1], "other") == 0) return other_program();
  int64_t endpoint = apus_endpoint_create();
  expect_true("endpoint_create", !apus_is_error(endpoint));
  apus_handle_t ep = (apus_handle_t)endpoint;

  /* One timer: not early, not much late (a tick is 10 ms). */
  uint64_t start = now();
  expect_eq("arm key 3", apus_endpoint_timer(ep, 3, start + 30 * MS), 0);
  expect_eq("key 3 fires", (int64_t)wait_bits(ep), 1 << 3);
  uint64_t waited = now() - start;
  expect_true("not before its deadline", waited >= 30 * MS);
  expect_true("within 50 ms of it", waited < 80 * MS);
  printf("TIMERS: 30 ms timer fired after %lu us\n", waited / 1000);

  /* Two keys fire in deadline order, each once. */
  start = now();
  expect_eq("arm key 1 late", apus_endpoint_timer(ep, 1, start + 120 * MS), 0);
  expect_eq("arm key 2 early", apus_endpoint_timer(ep, 2, start + 20 * MS), 0);
  expect_eq("the early key first", (int64_t)wait_bits(ep), 1 << 2);
  expect_eq("then the late one", (int64_t)wait_bits(ep), 1 << 1);
  expect_true("the late one not early", now() - start >= 120 * MS);

  /* Cancel and move. */
  start = now();
  expect_eq("arm key 4", apus_endpoint_timer(ep, 4, start + 20 * MS), 0);
  expect_eq("cancel key 4", apus_endpoint_timer(ep, 4, 0), 0);
  expect_eq("cancel an unarmed key", apus_endpoint_timer(ep, 9, 0), 0);
  expect_eq("arm key 6 far", apus_endpoint_timer(ep, 6, start + 10000 * MS), 0);
  expect_eq("move key 6 near", apus_endpoint_timer(ep, 6, start + 60 * MS), 0);
  expect_eq("arm key 5", apus_endpoint_timer(ep, 5, start + 40 * MS), 0);
  expect_eq("key 5, not the cancelled 4", (int64_t)wait_bits(ep), 1 << 5);
  expect_eq("key 6 at its new deadline", (int64_t)wait_bits(ep), 1 << 6);
  expect_true("moved, not waited out", now() - start < 2000 * MS);

  /* A deadline in the past fires at the next tick. */
  expect_eq("arm in the past", apus_endpoint_timer(ep, 7, 1), 0);
  expect_eq("past deadline fires", (int64_t)wait_bits(ep), 1 << 7);

  /* Bad arguments. */
  expect_eq("key 64", apus_endpoint_timer(ep, 64, now() + MS), ERR(APUS_ERR_INVALID_ARGUMENT));
  int64_t writer = apus_handle_duplicate(ep, APUS_RIGHT_WRITE);
  expect_eq("write-only handle", apus_endpoint_timer((apus_handle_t)writer, 1, now() + MS), ERR(APUS_ERR_ACCESS_DENIED));
  int64_t shm = apus_shm_create(4096);
  expect_eq("not an endpoint", apus_endpoint_timer((apus_handle_t)shm, 1, now() + MS), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("not a handle", apus_endpoint_timer(999, 1, now() + MS), ERR(APUS_ERR_BAD_HANDLE));
  apus_handle_close((apus_handle_t)shm);

  /* Limits: 4 per endpoint, kept by the endpoint; cancelling frees one. There is no
   * system-wide table: this program arms 4 on each of 24 endpoints of its own (96; the
   * old kernel's table of 64 refused the 65th, for everyone), and another program's
   * timer still fires. */
  uint64_t far = now() + 60000 * MS;
  for (uint32_t key = 0; key < 4; key++) expect_eq("arm one of four", apus_endpoint_timer(ep, key, far), 0);
  expect_eq("a fifth on one endpoint", apus_endpoint_timer(ep, 4, far), ERR(APUS_ERR_NO_MEMORY));
  expect_eq("re-arming an armed key is no new timer", apus_endpoint_timer(ep, 3, far + MS), 0);
  expect_eq("cancel one", apus_endpoint_timer(ep, 0, 0), 0);
  expect_eq("its slot is free again", apus_endpoint_timer(ep, 4, far), 0);
  apus_handle_t others[24];
  int refused = 0;
  for (int i = 0; i < 24; i++) {
    others[i] = (apus_handle_t)apus_endpoint_create();
    for (uint32_t key = 0; key < 4; key++) refused += apus_endpoint_timer(others[i], key, far) != 0;
  }
  expect_eq("4 timers on each of 24 endpoints of ours", refused, 0);
  expect_eq("another program's timer fires meanwhile", end_status(start_case("tests/timers", "other")), 0);
  /* Closing endpoints with armed timers; one that will fire soon into a closed one. */
  expect_eq("arm on a doomed endpoint", apus_endpoint_timer(others[0], 0, now() + 10 * MS), 0);
  for (int i = 0; i < 24; i++) apus_handle_close(others[i]);
  for (uint32_t key = 1; key < 5; key++) apus_endpoint_timer(ep, key, 0);

  /* After the closed endpoint's timer fired, a new one still works (its slot was reused). */
  start = now();
  expect_eq("arm after the table emptied", apus_endpoint_timer(ep, 8, start + 30 * MS), 0);
  expect_eq("and it fires", (int64_t)wait_bits(ep), 1 << 8);
  for (int round = 0; round < 64; round++) {
    apus_handle_t temporary = (apus_handle_t)apus_endpoint_create();
    expect_eq("a timer on a short-lived endpoint", apus_endpoint_timer(temporary, 0, 1), 0);
    apus_handle_close(temporary);
  }
  expect_eq("arm once more", apus_endpoint_timer(ep, 8, now() + 20 * MS), 0);
  expect_eq("fires once more", (int64_t)wait_bits(ep), 1 << 8);

  apus_handle_close((apus_handle_t)writer);
  apus_handle_close(ep);
  printf("TIMERS: %d checks, %d failed\n", test_checks, test_failures);
  if (test_failures == 0) printf("TIMERS: endpoint timers ok\n");
  return test_failures != 0;
}
