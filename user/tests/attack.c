/* tests/attack MODE: issue 21's per-client limits, attacked by one ORDINARY program
 * (init's run=, registry handle 1 without manage) that starts children of its own.
 * Every per-client limit is per process (the sender id), and nothing limits how many
 * processes a program may start, so one program with a few children takes a server's
 * whole global table and a client that is not its own loses service
 * (tests/attack/test_attack.py).
 *   buffers  - 32 children each attach a 4 KiB buffer to fsd (ClientBuffers keeps 32
 *              entries for every client together): then a new client's fs_connect.
 *   files    - 4 children each open /hello.txt open_max (64) times (fsd keeps 256 for
 *              everybody): then another client's fs_open.
 *   waiters  - 4 children each keep 4 waiting lookups (svcman keeps 16 for
 *              everybody): then another client's waiting lookup.
 *   procs    - children until process_spawn fails (256 live processes for the whole
 *              system); then fsd dies (the kernel's chaos= kills it at one of this
 *              program's requests) while they live: the supervisor cannot start it
 *              again and, two seconds later, when the children have ended, fsd must
 *              serve again (it is given up instead).
 * In each mode the children stay alive after this program exits (a process outlives
 * its parent), so the next run= program is the second client that must be served.
 * The victim of each mode is a child too (a separate process: a client of its own).
 *   hold-buffer, hold-files, hold-waits, hold-process, victim-buffer, victim-file, victim-wait:
 *              the children's roles. */
#include <fs_client.h>
#include <registry.h>
#include "testlib.h"

static const char self[] = "tests/attack";
#define CONTROL ((apus_handle_t)2)
#define MS 1000000ull


/* Tells the parent `value` (a one-way message on the control endpoint). */
static void report(int64_t value) { apus_ipc_send(CONTROL, (const uint8_t *)&value, sizeof value, NULL, 0); }

/* Holds on for 20 s (the next run= programs are the other clients), then exits: a
 * process left running would keep init from ending (it waits for svcman, which ends
 * when no registry handle is left). */
static void stay(void) {
  int64_t endpoint = apus_endpoint_create();
  if (apus_is_error(endpoint)) apus_process_exit(3);
  apus_endpoint_timer((apus_handle_t)endpoint, 0, (uint64_t)apus_time_now() + 20000 * MS);
  wait_bits((apus_handle_t)endpoint);
  apus_process_exit(0);
}

/* --- children --- */

static struct fs_client fs;

static int hold_buffer(void) {
  report(fs_connect(&fs, 8192));
  stay();
  return 0;
}

static int hold_files(void) {
  int64_t status = fs_connect(&fs, 8192);
  int64_t opened = 0;
  uint64_t file;
  while (status == 0 && (status = fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_READ, 0, &file, NULL, NULL)) == 0) opened++;
  report(opened);
  stay();
  return 0;
}

static void wait_for_never(uint64_t unused) {
  (void)unused;
  apus_handle_t found;
  registry_lookup(REGISTRY_HANDLE, "attack-never", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found);
}

static int hold_waits(void) {
  int started = 0;
  for (int i = 0; i < 4; i++) started += !apus_is_error(start_thread(wait_for_never, 0));
  sleep_ms(100); /* the four are waiting in svcman */
  report(started);
  stay();
  return 0;
}

/* Holds a process table entry until the parent closes the release endpoint (its 3). */
static int hold_process(void) {
  report(0);
  uint8_t byte;
  struct apus_ipc_recv_info info;
  apus_ipc_recv((apus_handle_t)3, &byte, 1, NULL, 0, &info); /* peer_closed at the release */
  return 0;
}

/* A client of its own: connects to fsd and stats /. Reports the first failure. */
static int victim_buffer(void) {
  int64_t status = fs_connect(&fs, 8192);
  struct apus_fs_stat_reply stat;
  if (status == 0) status = fs_stat(&fs, "/", &stat);
  report(status);
  return 0;
}

static int victim_file(void) {
  int64_t status = fs_connect(&fs, 8192);
  uint64_t file;
  if (status == 0) status = fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_READ, 0, &file, NULL, NULL);
  report(status);
  return 0;
}

/* A waiting lookup of a name nobody adds; its answer (if any) goes to *arg. */
static void wait_for_later(uint64_t arg) {
  apus_handle_t found;
  *(volatile int64_t *)(uintptr_t)arg = registry_lookup(REGISTRY_HANDLE, "attack-later", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found);
}

/* Waits for a name nobody adds: it should wait (the parent kills it), not be busy. */
static int victim_wait(void) {
  apus_handle_t found;
  report(registry_lookup(REGISTRY_HANDLE, "attack-later", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found));
  return 0;
}

/* A client in a job of its own (a run= program after the attacker's): what it gets
 * while the attacker's children hold their share. */
static int another_job(const char *what) {
  int64_t status;
  if (strcmp(what, "buffer") == 0) {
    status = fs_connect(&fs, 8192);
    struct apus_fs_stat_reply stat;
    if (status == 0) status = fs_stat(&fs, "/", &stat);
  } else if (strcmp(what, "file") == 0) {
    status = fs_connect(&fs, 8192);
    uint64_t file;
    if (status == 0) status = fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_READ, 0, &file, NULL, NULL);
  } else {  /* a waiting lookup: still waiting after a second means it was taken */
    static volatile int64_t answer = 9999;
    status = -1;
    int64_t thread = start_thread(wait_for_later, (uint64_t)(uintptr_t)&answer);
    if (!apus_is_error(thread)) {
      sleep_ms(1000);
      status = answer;
    }
  }
  printf("ATTACK: a client of another job: %s: %ld\n", what, status);
  return 0;
}

/* --- the attacker --- */

static apus_handle_t control;

/* Starts `role` with the registry (lookup only, as ours) and the control endpoint's
 * write end; returns the process handle or a negated error. */
static int64_t start(const char *role) {
  struct apus_handle_grant grants[2] = {
    {REGISTRY_HANDLE, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
    {control, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
  };
  return start_case_with(self, role, grants, 2);
}

/* The next child's report, or `none` when none comes within `ms`. */
static int64_t next_report(uint64_t ms, int64_t none) { return report_within(control, ms, none); }

/* Starts `count` holders of `role`; prints how many started and what each reported. */
static void hold(const char *role, int count) {
  int started = 0;
  char line[512];
  size_t len = 0;
  for (int i = 0; i < count; i++) {
    if (apus_is_error(start(role))) continue;
    started++;
    int64_t value = next_report(5000, -9999);
    len += (size_t)snprintf(line + len, sizeof line - len, " %ld", value);
    if (len >= sizeof line) len = sizeof line - 1;
  }
  printf("ATTACK: %d %s children started, reports:%s\n", started, role, line);
}

/* Makes requests of fsd until one finds it gone: 1, or 0 when it never died. */
static int until_fsd_dies(void) {
  if (fs_connect(&fs, 8192) != 0) return 0;
  struct apus_fs_stat_reply stat;
  for (int request = 0; request < 400; request++)
    if (fs_stat(&fs, "/", &stat) < 0) return 1;
  return 0;
}

static void procs(void) {
  int64_t release = apus_endpoint_create();
  if (apus_is_error(release)) return;
  struct apus_handle_grant grants[3] = {
    {REGISTRY_HANDLE, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
    {control, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
    {(apus_handle_t)release, APUS_RIGHT_READ},
  };
  int held = 0;
  int64_t child = 0;
  for (; held < 300; held++) {
    child = start_case_with(self, "hold-process", grants, 3);
    if (apus_is_error(child)) break;
    apus_handle_close((apus_handle_t)child); /* 128 handles: the children are kept by the release endpoint */
    next_report(5000, -9999);
  }
  printf("ATTACK: %d children hold the process table (the next spawn: %ld)\n", held, child);
  int died = until_fsd_dies();
  /* fsd's end frees its entry: take every entry that frees up for two seconds, so the
   * supervisor's restarts find none. */
  int grabbed = 0;
  uint64_t until = (uint64_t)apus_time_now() + 2000 * MS;
  while ((uint64_t)apus_time_now() < until) {
    child = start_case_with(self, "hold-process", grants, 3);
    if (apus_is_error(child)) {
      apus_yield();
      continue;
    }
    apus_handle_close((apus_handle_t)child);
    grabbed++;
  }
  printf("ATTACK: fsd died: %d; %d more entries taken as they freed up\n", died, grabbed);
  apus_handle_close((apus_handle_t)release); /* every child ends */
  sleep_ms(500);
  apus_handle_close(fs.endpoint);
  int64_t connected = fs_connect(&fs, 8192);
  printf("ATTACK: the children have ended; fs_connect: %ld\n", connected);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "hold-buffer") == 0) return hold_buffer();
  if (strcmp(mode, "hold-files") == 0) return hold_files();
  if (strcmp(mode, "hold-waits") == 0) return hold_waits();
  if (strcmp(mode, "hold-process") == 0) return hold_process();
  if (strcmp(mode, "victim-buffer") == 0) return victim_buffer();
  if (strcmp(mode, "victim-file") == 0) return victim_file();
  if (strcmp(mode, "victim-wait") == 0) return victim_wait();
  if (strncmp(mode, "another-job-", 12) == 0) return another_job(mode + 12);
  test_name = "ATTACK";
  int64_t made = apus_endpoint_create();
  if (apus_is_error(made)) return 2;
  control = (apus_handle_t)made;
  if (strcmp(mode, "buffers") == 0) {
    hold("hold-buffer", 32);
    start("victim-buffer");
    printf("ATTACK: another client's fs_connect and stat: %ld\n", next_report(5000, -9999));
  } else if (strcmp(mode, "files") == 0) {
    hold("hold-files", 4);
    start("victim-file");
    printf("ATTACK: another client's fs_open: %ld\n", next_report(5000, -9999));
  } else if (strcmp(mode, "waiters") == 0) {
    hold("hold-waits", 4);
    int64_t victim = start("victim-wait");
    /* A served waiting lookup reports nothing for as long as nobody adds the name. */
    int64_t value = next_report(1000, 9999);
    if (!apus_is_error(victim)) {
      apus_process_kill((apus_handle_t)victim);
      end_status(victim);
    }
    printf("ATTACK: another client's waiting lookup: %ld\n", value);
  } else if (strcmp(mode, "procs") == 0) {
    procs();
  } else {
    printf("ATTACK: unknown mode %s\n", mode);
    return 1;
  }
  return 0;
}
