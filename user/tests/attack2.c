/* tests/attack2 MODE: issue 21's second hostile-client review (tests/attack/test_attack2.py).
 * An ORDINARY program (init's run=, the lookup-only registry handle 1, the console 2)
 * that starts children of its own; its children outlive it, so the next run= program
 * is a client of another job that must still be served.
 *   memory  - user memory is limited per process (256 MiB), not per job, and the
 *             machine has 512 MiB: children each map 4 MiB at a time until refused,
 *             until the next one gets nothing (or cannot even start). What the job
 *             holds, and what a 1 MiB vm_map of its own then gets, are printed. Then
 *             it makes fsd requests until one finds fsd gone (the kernel's chaos=
 *             kills it at one of them, when the test asks): the supervisor must start
 *             fsd again while the children hold the memory. The children give it
 *             back after 20 s.
 *   linger  - a child that keeps a copy of the registry handle and waits for ever
 *             (on an endpoint of its own that it also writes to). The program exits;
 *             init then closes its registry handle and waits for svcman, which ends
 *             only when no registry handle is left: does init still halt?
 *   fill, wait-forever: the children's roles. */
#include <fs_client.h>
#include <registry.h>
#include "testlib.h"

static const char self[] = "tests/attack2";
#define MS 1000000ull
#define MIB ((uint64_t)1024 * 1024)
#define CHUNK (4 * MIB)
#define HOLD_MS 20000

static apus_handle_t control;

/* Tells the parent `value` (a one-way message on handle 1, the control endpoint). */
static void report(int64_t value) { apus_ipc_send(1, (const uint8_t *)&value, sizeof value, NULL, 0); }

/* Waits `ms` on an endpoint of its own (no other wake-up can come). */
static void stay(uint64_t ms) {
  int64_t endpoint = apus_endpoint_create();
  if (apus_is_error(endpoint)) apus_process_exit(3);
  apus_endpoint_timer((apus_handle_t)endpoint, 0, (uint64_t)apus_time_now() + ms * MS);
  wait_bits((apus_handle_t)endpoint);
}

/* --- children --- */

/* Maps 4 MiB at a time until refused (vm_map takes the pages at once), reports the
 * MiB it holds, keeps them HOLD_MS, exits (giving them back). */
static int fill(void) {
  uint64_t chunks = 0;
  while (chunks < 64 && !apus_is_error(apus_vm_map(0, CHUNK, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0))) chunks++;
  uint64_t pages = 0; /* then what is left, a page at a time, down to the reserve */
  while (pages < 1024 && !apus_is_error(apus_vm_map(0, 4096, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0))) pages++;
  report((int64_t)((chunks * CHUNK + pages * 4096) / MIB));
  stay(HOLD_MS);
  return 0;
}

/* Keeps the registry handle (its 1) and waits for a message nobody sends: it holds
 * the write end of its own endpoint, so the wait never ends with peer_closed. */
static int wait_forever(void) {
  int64_t endpoint = apus_endpoint_create();
  if (apus_is_error(endpoint)) return 3;
  uint64_t word;
  struct apus_ipc_recv_info info;
  for (;;) apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)&word, sizeof word, NULL, 0, &info);
}

/* --- the attacker --- */

/* The next child's report, or `none` when none comes within `ms`. */
static int64_t next_report(uint64_t ms, int64_t none) { return report_within(control, ms, none); }

static struct fs_client fs;

/* Makes requests of fsd until one finds it gone: 1, or 0 when it never died. */
static int until_fsd_dies(int64_t connected) {
  if (connected != 0) return 0;
  struct apus_fs_stat_reply stat;
  for (int request = 0; request < 400; request++)
    if (fs_stat(&fs, "/", &stat) < 0) return 1;
  return 0;
}

static void memory(void) {
  struct apus_handle_grant grants[1] = {{control, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER}};
  int children = 0;
  int64_t total = 0, last = 0, child = 0;
  char line[256] = "";
  size_t len = 0;
  int64_t connected = fs_connect(&fs, 8192); /* before the memory is gone (its buffer is shm) */
  while (children < 8) {
    child = start_case_with(self, "fill", grants, 1);
    if (apus_is_error(child)) break;
    apus_handle_close((apus_handle_t)child);
    children++;
    last = next_report(10000, -9999);
    if (last > 0) total += last;
    len += (size_t)snprintf(line + len, sizeof line - len, " %ld", last);
    if (len >= sizeof line) len = sizeof line - 1;
    if (last <= 0) break;
  }
  int64_t own = apus_vm_map(0, MIB, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0);
  printf("ATTACK2: %d fill children hold %ld MiB (MiB each:%s); the next spawn: %ld; a 1 MiB vm_map: %ld\n", children,
         total, line, apus_is_error(child) ? child : 0, apus_is_error(own) ? own : 0);
  int died = until_fsd_dies(connected);
  printf("ATTACK2: fsd died: %d\n", died);
  if (!died) return;
  sleep_ms(3000); /* the supervisor's restart and fsd's mount have had their time */
  apus_handle_close(fs.endpoint);
  /* The new connection's buffer comes from what the old one frees: the children leave
   * this job less than a page (or a few, as the binaries' sizes fall), and the test is
   * about fsd's restart, not about that remainder. */
  apus_vm_unmap((uint64_t)(uintptr_t)fs.buffer, fs.size);
  apus_handle_close(fs.shm);
  int64_t again = fs_connect(&fs, 8192);
  struct apus_fs_stat_reply stat;
  if (again == 0) again = fs_stat(&fs, "/", &stat);
  printf("ATTACK2: 3 s after fsd died, while the children hold the memory: fs_connect and stat: %ld\n", again);
}

static void linger(void) {
  struct apus_handle_grant grants[1] = {{REGISTRY_HANDLE, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER}};
  int64_t child = start_case_with(self, "wait-forever", grants, 1);
  if (!apus_is_error(child)) apus_handle_close((apus_handle_t)child);
  printf("ATTACK2: a child that waits for ever: %ld\n", apus_is_error(child) ? child : 0);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "fill") == 0) return fill();
  if (strcmp(mode, "wait-forever") == 0) return wait_forever();
  int64_t made = apus_endpoint_create();
  if (apus_is_error(made)) return 2;
  control = (apus_handle_t)made;
  if (strcmp(mode, "memory") == 0) {
    memory();
  } else if (strcmp(mode, "linger") == 0) {
    linger();
  } else {
    printf("ATTACK2: unknown mode %s\n", mode);
    return 1;
  }
  return 0;
}
