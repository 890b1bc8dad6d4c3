/* The first process. Prints that user mode works, starts the service registry
 * (services/svcman) first, then runs each program named in its arguments (the kernel
 * passes the command line's `run=` options) one after another, waits for it, and
 * reports how it ended. Every program it starts gets the registry endpoint as its
 * handle 1, with write, transfer and manage (boot programs may register names); it
 * passes it on to its own children as it sees fit. When the programs are done, init
 * closes the registry, which ends svcman, and waits for it. */
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

static int64_t start(const char *path, const struct apus_handle_grant *grant) {
  return apus_process_spawn_handles((const uint8_t *)path, strlen(path), (const uint8_t *)path, strlen(path) + 1, grant, 1);
}

int main(int argc, char **argv) {
  printf("USER: hello\n");
  int failures = 0;
  int64_t registry = apus_endpoint_create();
  struct apus_handle_grant serve = {(uint32_t)registry, APUS_RIGHT_READ};
  int64_t svcman = apus_is_error(registry) ? registry : start("services/svcman", &serve);
  if (apus_is_error(svcman)) {
    printf("INIT: cannot start services/svcman: error %ld\n", -svcman);
    return 1;
  }
  struct apus_handle_grant client = {(uint32_t)registry, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | APUS_RIGHT_MANAGE};
  for (int i = 1; i < argc; i++) {
    const char *path = argv[i];
    int64_t child = start(path, &client);
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
  /* No writer to the registry is left once our handle goes: svcman ends. */
  apus_handle_close((apus_handle_t)registry);
  struct apus_process_status ended;
  if (apus_is_error(apus_process_wait((apus_handle_t)svcman, &ended)) || ended.reason != APUS_EXIT_REASON_EXITED || ended.code != 0) {
    printf("INIT: services/svcman ended wrong\n");
    failures++;
  }
  apus_handle_close((apus_handle_t)svcman);
  printf("INIT: done failures=%d\n", failures);
  return failures;
}
