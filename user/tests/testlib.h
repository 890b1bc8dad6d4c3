/* What the kernel-facing test programs share: checks that count failures and print
 * what went wrong, starting a copy of a program with one argument (a "case") and
 * waiting for how it ended, and threads on stacks of their own. Header-only: each test
 * program is one file plus this. */
#ifndef APUS_TESTLIB_H
#define APUS_TESTLIB_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <apus/syscall.h>

#define ERR(e) (-(int64_t)(e))

static int test_checks, test_failures;
static const char *test_name = "TEST";

static inline void expect_eq(const char *what, int64_t got, int64_t want) {
  test_checks++;
  if (got != want) {
    test_failures++;
    printf("%s: %s returned %ld, expected %ld\n", test_name, what, got, want);
  }
}

static inline void expect_true(const char *what, int ok) {
  test_checks++;
  if (!ok) {
    test_failures++;
    printf("%s: %s failed\n", test_name, what);
  }
}

/* A system call by number, bypassing the generated stubs (to pass what they cannot). */
static inline int64_t raw_syscall(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2) {
  int64_t result;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a0), "S"(a1), "d"(a2) : "rcx", "r11", "memory");
  return result;
}

/* Starts `path` with argv = { path, arg } and `grants` as its handles 1, 2, ...;
 * returns its handle or a negated error. */
static inline int64_t start_case_with(const char *path, const char *arg, const struct apus_handle_grant *grants,
                                      uint64_t count) {
  char args[128];
  size_t path_len = strlen(path), arg_len = strlen(arg);
  memcpy(args, path, path_len + 1);
  memcpy(args + path_len + 1, arg, arg_len + 1);
  return apus_process_spawn_handles((const uint8_t *)path, path_len, (const uint8_t *)args, path_len + arg_len + 2,
                                    grants, count);
}

static inline int64_t start_case(const char *path, const char *arg) { return start_case_with(path, arg, NULL, 0); }

/* Waits for a process and closes its handle: its exit code, 100 + the reason when it
 * did not exit by itself, or a negated error. */
static inline int64_t end_status(int64_t process) {
  struct apus_process_status status;
  int64_t got = apus_process_wait((apus_handle_t)process, &status);
  apus_handle_close((apus_handle_t)process);
  if (got != 0) return got;
  return status.reason == APUS_EXIT_REASON_EXITED ? status.code : 100 + status.reason;
}

/* Runs a case to its end; fills `status`. Returns 0, or a negated error. */
static inline int64_t run_case(const char *path, const char *arg, struct apus_process_status *status) {
  int64_t child = start_case(path, arg);
  if (apus_is_error(child)) return child;
  int64_t waited = apus_process_wait((apus_handle_t)child, status);
  apus_handle_close((apus_handle_t)child);
  return waited;
}

/* Where a new thread starts: thread_spawn enters with rsp at the 16-byte aligned top
 * it was given, not as a call would (rsp + 8 aligned), so the first function realigns
 * its stack before any SSE spill, then runs the real entry with its argument. */
struct thread_start { void (*entry)(uint64_t); uint64_t arg; };

__attribute__((force_align_arg_pointer, noreturn, used)) static void thread_trampoline(uint64_t start) {
  struct thread_start *how = (struct thread_start *)(uintptr_t)start;
  how->entry(how->arg);
  apus_thread_exit(0);
}

/* A thread running entry(arg) on a fresh 64 KiB stack; returns its handle or -error. */
static inline int64_t start_thread(void (*entry)(uint64_t), uint64_t arg) {
  int64_t stack = apus_vm_map(0, 65536, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0);
  if (apus_is_error(stack)) return stack;
  struct thread_start *how = (struct thread_start *)(uintptr_t)((uint64_t)stack + 65536 - 16);
  how->entry = entry;
  how->arg = arg;
  return apus_thread_spawn((uint64_t)(uintptr_t)thread_trampoline, (uint64_t)stack + 65536 - 32, (uint64_t)(uintptr_t)how);
}

/* The fuzzers' reproducible randomness (xorshift64): seed `state` (non-zero), then
 * rnd() for 64 bits and pick(n) for 0 to n-1. */
static uint64_t state = 1;
static inline uint64_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}
static inline uint64_t pick(uint64_t n) { return n ? rnd() % n : 0; }

/* The decimal number at the start of `text` (arguments like seed=N). */
static inline uint64_t number_after(const char *text) {
  uint64_t value = 0;
  for (; *text >= '0' && *text <= '9'; text++) value = value * 10 + (uint64_t)(*text - '0');
  return value;
}

/* Waits for the next message on `endpoint`: the key bits posted on it (interrupts,
 * endpoint_timer, process_watch), or 0 when it was not such a message. */
static inline uint64_t wait_bits(apus_handle_t endpoint) {
  uint64_t bits = 0;
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_recv(endpoint, (uint8_t *)&bits, sizeof bits, NULL, 0, &info);
  if (apus_is_error(got) || !(info.flags & APUS_IPC_RECV_FLAGS_INTERRUPT)) return 0;
  return bits;
}

/* Sleeps `ms` milliseconds on a private endpoint's timer. */
static inline void sleep_ms(uint64_t ms) {
  int64_t endpoint = apus_endpoint_create();
  if (apus_is_error(endpoint)) return;
  if (!apus_is_error(apus_endpoint_timer((apus_handle_t)endpoint, 0, (uint64_t)apus_time_now() + ms * 1000000ull)))
    wait_bits((apus_handle_t)endpoint);
  apus_handle_close((apus_handle_t)endpoint);
}

/* The next 8-byte report a child sends on `endpoint`, or `none` when none comes within
 * `ms` (key 0 of the endpoint's timers). */
static inline int64_t report_within(apus_handle_t endpoint, uint64_t ms, int64_t none) {
  apus_endpoint_timer(endpoint, 0, (uint64_t)apus_time_now() + ms * 1000000ull);
  int64_t value = 0;
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_recv(endpoint, (uint8_t *)&value, sizeof value, NULL, 0, &info);
  apus_endpoint_timer(endpoint, 0, 0);
  if (apus_is_error(got) || (info.flags & APUS_IPC_RECV_FLAGS_INTERRUPT) || got != sizeof value) return none;
  return value;
}

/* Prints the verdict line and returns the exit code. */
static inline int finish(const char *what) {
  if (test_failures == 0) {
    printf("%s: %s ok (%d checks)\n", test_name, what, test_checks);
    return 0;
  }
  printf("%s: %s FAILED failures=%d of %d checks\n", test_name, what, test_failures, test_checks);
  return 1;
}
#endif
