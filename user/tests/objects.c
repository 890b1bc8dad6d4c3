/* Kernel objects and handles (issue 9): each check is the regression test of a defect
 * the M3 kernel had, named in its comment. Run with no argument it runs every check,
 * starting copies of itself (tests/objects CASE) where a check needs a process of its
 * own. Prints OBJECTS: ok only after every answer was checked. */
#include "testlib.h"

static const char self[] = "tests/objects";
static const char child_path[] = "tests/child";  /* exits 7 */

static int64_t spawn_child(void) {
  return apus_process_spawn((const uint8_t *)child_path, sizeof child_path - 1, (const uint8_t *)child_path, sizeof child_path);
}

static void yield_forever(uint64_t unused) {
  (void)unused;
  for (;;) apus_yield();
}

/* Defect 1: process_spawn's placeholder handle was visible to sibling threads, and
 * process_wait on it indexed records[-1]. A sibling waits on every value a handle can
 * have while this thread spawns: each answer is bad_handle or a real child's status. */
static volatile int spawning_done;
static volatile int sibling_bad;

static void wait_on_everything(uint64_t unused) {
  (void)unused;
  while (!spawning_done) {
    for (uint32_t generation = 0; generation < 4; generation++) {
      for (uint32_t slot = 1; slot <= 8; slot++) {
        struct apus_process_status status;
        int64_t got = apus_process_wait((generation << 8) | slot, &status);
        if (got == 0 && !(status.reason == APUS_EXIT_REASON_EXITED && status.code == 7)) sibling_bad++;
        if (got != 0 && got != ERR(APUS_ERR_BAD_HANDLE) && got != ERR(APUS_ERR_WRONG_HANDLE_KIND)) sibling_bad++;
      }
    }
  }
  apus_thread_exit(0);
}

static void reserved_handles_are_invisible(void) {
  expect_true("sibling thread", !apus_is_error(start_thread(wait_on_everything, 0)));
  for (int i = 0; i < 60; i++) {
    int64_t child = spawn_child();
    struct apus_process_status status;
    expect_eq("spawn beside a waiting sibling", apus_is_error(child) ? child : 0, 0);
    if (apus_is_error(child)) break;
    apus_process_wait((apus_handle_t)child, &status);
    apus_handle_close((apus_handle_t)child);
  }
  spawning_done = 1;
  for (int i = 0; i < 50; i++) apus_yield();
  expect_eq("sibling's wrong answers", sibling_bad, 0);
}

/* Defect 2: process_wait copied the handle without a reference; a sibling closing the
 * handle mid-wait let the record be freed and reused. The waiter must still get the
 * status of the process it waited for (spinner exit: code 5), however many processes
 * (code 7) start and end meanwhile. */
static volatile int64_t shared_child;
static volatile int closer_done;

static void close_and_churn(uint64_t unused) {
  (void)unused;
  for (int i = 0; i < 3; i++) apus_yield();  /* let the waiter block first */
  apus_handle_close((apus_handle_t)shared_child);
  for (int i = 0; i < 20; i++) {
    int64_t other = spawn_child();
    struct apus_process_status status;
    if (!apus_is_error(other)) {
      apus_process_wait((apus_handle_t)other, &status);
      apus_handle_close((apus_handle_t)other);
    }
  }
  closer_done = 1;
  apus_thread_exit(0);
}

static void wait_survives_close(void) {
  shared_child = start_case("tests/spinner", "exit");
  expect_true("spawn spinner", !apus_is_error(shared_child));
  expect_true("closer thread", !apus_is_error(start_thread(close_and_churn, 0)));
  struct apus_process_status status;
  int64_t got = apus_process_wait((apus_handle_t)shared_child, &status);
  if (got == 0) {
    expect_eq("waited-for status reason", status.reason, APUS_EXIT_REASON_EXITED);
    expect_eq("waited-for exit code", status.code, 5);
  } else {
    expect_eq("wait lost the race to close, cleanly", got, ERR(APUS_ERR_BAD_HANDLE));
  }
  while (!closer_done) apus_yield();
}

/* Stale values: a closed handle's value never names the slot's next object. */
static void stale_handles_are_bad(void) {
  int64_t first = spawn_child();
  struct apus_process_status status;
  apus_process_wait((apus_handle_t)first, &status);
  expect_eq("close", apus_handle_close((apus_handle_t)first), 0);
  int64_t second = spawn_child();
  expect_true("the slot is used again under a new value", second != first);
  expect_eq("wait on the stale value", apus_process_wait((apus_handle_t)first, &status), ERR(APUS_ERR_BAD_HANDLE));
  expect_eq("close the stale value", apus_handle_close((apus_handle_t)first), ERR(APUS_ERR_BAD_HANDLE));
  expect_eq("wait on the new value", apus_process_wait((apus_handle_t)second, &status), 0);
  expect_eq("close the new value", apus_handle_close((apus_handle_t)second), 0);
  int64_t third = spawn_child();
  expect_eq("a handle with high bits set", raw_syscall(APUS_SYS_PROCESS_WAIT, (1ull << 32) | (uint64_t)third, (uint64_t)(uintptr_t)&status, 0),
            ERR(APUS_ERR_BAD_HANDLE));
  expect_eq("the same handle without them", apus_process_wait((apus_handle_t)third, &status), 0);
  apus_handle_close((apus_handle_t)third);
}

/* Defect 3 and 13: a process that exits holding handles used to keep what they named
 * forever; after 256 of them nobody could spawn. 300 parents each leave a child's
 * handle open when they exit. */
static void exit_closes_handles(void) {
  int failed = 0;
  for (int i = 0; i < 300 && !failed; i++) {
    struct apus_process_status status;
    int64_t got = run_case(self, "orphan", &status);
    if (got != 0 || status.reason != APUS_EXIT_REASON_EXITED || status.code != 0) {
      printf("OBJECTS: orphaning parent %d: error %ld reason %u code %ld\n", i, -got, status.reason, status.code);
      failed = 1;
    }
  }
  expect_eq("300 parents exiting with open handles", failed, 0);
}

/* Defect 7: thread_exit read and decremented the thread count in two steps, so two
 * threads exiting together could both miss being last and lose the exit code. */
static void last_thread_sets_the_code(void) {
  int wrong = 0;
  for (int i = 0; i < 100; i++) {
    struct apus_process_status status;
    int64_t got = run_case(self, "twoexit", &status);
    if (got != 0 || status.reason != APUS_EXIT_REASON_EXITED || status.code != 9) wrong++;
  }
  expect_eq("processes whose two threads exit together, wrong status", wrong, 0);
}

/* Defect 4: `exiting` was checked only on the way out of a system call, so a thread
 * spinning in user mode kept its dying process alive forever. */
static void spinning_thread_does_not_keep_it_alive(void) {
  struct apus_process_status status;
  expect_eq("process_exit beside a spinning thread", run_case("tests/spinner", "exit", &status), 0);
  expect_eq("...ends with its code", status.code, 5);
}

/* process_kill, and the limits the spec names. */
static void kill_and_limits(void) {
  int64_t busy = start_case("tests/spinner", "threads");
  struct apus_process_status status;
  expect_eq("kill a busy process", apus_process_kill((apus_handle_t)busy), 0);
  expect_eq("wait for it", apus_process_wait((apus_handle_t)busy, &status), 0);
  expect_eq("its reason", status.reason, APUS_EXIT_REASON_KILLED);
  expect_eq("kill an ended process", apus_process_kill((apus_handle_t)busy), 0);
  apus_handle_close((apus_handle_t)busy);
  expect_eq("threads up to the limit", run_case(self, "threadlimit", &status), 0);
  expect_eq("...then limit_reached", status.code, 0);
  expect_eq("handles up to the limit", run_case(self, "handlelimit", &status), 0);
  expect_eq("...then limit_reached", status.code, 0);
}

static void two_threads_exit(uint64_t unused) {
  (void)unused;
  apus_thread_exit(9);
}

int main(int argc, char **argv) {
  test_name = "OBJECTS";
  if (argc > 1 && strcmp(argv[1], "orphan") == 0) {
    return apus_is_error(spawn_child()) ? 1 : 0;  /* exits holding the handle */
  }
  if (argc > 1 && strcmp(argv[1], "twoexit") == 0) {
    start_thread(two_threads_exit, 0);
    apus_thread_exit(9);
  }
  if (argc > 1 && strcmp(argv[1], "threadlimit") == 0) {
    int started = 1;  /* this one */
    int64_t got;
    int64_t stacks = apus_vm_map(0, 64 * 16384, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0);
    if (apus_is_error(stacks)) return 2;
    while (!apus_is_error(got = apus_thread_spawn((uint64_t)(uintptr_t)yield_forever, (uint64_t)stacks + 16384 * (uint64_t)started, 0))) {
      started++;
    }
    printf("OBJECTS: %d threads, then error %ld\n", started, -got);
    apus_process_exit(started == 64 && got == ERR(APUS_ERR_LIMIT_REACHED) ? 0 : 1);
  }
  if (argc > 1 && strcmp(argv[1], "handlelimit") == 0) {
    int held = 0;
    int64_t got;
    while (!apus_is_error(got = spawn_child())) held++;
    printf("OBJECTS: %d handles, then error %ld\n", held, -got);
    return held == 128 && got == ERR(APUS_ERR_LIMIT_REACHED) ? 0 : 1;
  }
  spinning_thread_does_not_keep_it_alive();
  reserved_handles_are_invisible();
  wait_survives_close();
  stale_handles_are_bad();
  exit_closes_handles();
  last_thread_sets_the_code();
  kill_and_limits();
  return finish("handles and processes");
}
