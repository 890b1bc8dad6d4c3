/* The first process. Prints that user mode works, then runs each program named in its
 * arguments (the kernel passes the command line's `run=` options) one after another,
 * waits for it, and reports how it ended: init is the test driver for M3. */
#include <stdio.h>
#include <string.h>
#include <apus/syscall.h>

static const char *reason_name(apus_exit_reason_t reason) {
  switch (reason) {
  case APUS_EXIT_REASON_EXITED: return "exited";
  case APUS_EXIT_REASON_PAGE_FAULT: return "page fault";
  case APUS_EXIT_REASON_GENERAL_PROTECTION: return "general protection";
  case APUS_EXIT_REASON_INVALID_OPCODE: return "invalid opcode";
  case APUS_EXIT_REASON_DIVIDE_ERROR: return "divide error";
  case APUS_EXIT_REASON_KILLED: return "killed";
  default: return "unknown";
  }
}

int main(int argc, char **argv) {
  printf("USER: hello\n");
  int failures = 0;
  for (int i = 1; i < argc; i++) {
    const char *path = argv[i];
    int64_t child = apus_process_spawn((const uint8_t *)path, strlen(path), (const uint8_t *)path, strlen(path) + 1);
    if (apus_is_error(child)) {
      printf("INIT: cannot start %s: error %ld\n", path, -child);
      failures++;
      continue;
    }
    struct apus_process_status status;
    int64_t waited = apus_process_wait((apus_handle_t)child, &status);
    apus_handle_close((apus_handle_t)child);
    if (apus_is_error(waited)) {
      printf("INIT: waiting for %s failed: error %ld\n", path, -waited);
      failures++;
    } else if (status.reason == APUS_EXIT_REASON_EXITED) {
      printf("INIT: %s exited code=%ld\n", path, status.code);
      if (status.code != 0) failures++;
    } else {
      printf("INIT: %s died reason=%s addr=%p rip=%p\n", path, reason_name(status.reason),
             (void *)status.fault_address, (void *)status.fault_ip);
    }
  }
  printf("INIT: done failures=%d\n", failures);
  return failures;
}
