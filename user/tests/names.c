/* tests/names MODE: the registry and the supervisor against an ordinary program (issue
 * 21; tests/supervisor/test_names.py). init runs it with a registry handle that lacks
 * manage; the kernel's chaos= option kills fsd at one of its requests, which this
 * program makes until fsd is gone.
 *   names   - it cannot add "fs" or a new name, before or after fsd dies, nor look up
 *             block0 (the raw disk); fsd's name stays reserved while it restarts, and
 *             the restarted fsd is the one this program reaches.
 *   waiters - one client gets at most 4 waiting lookups; 20 waiters killed leave
 *             nothing behind, so a lookup that waits for fsd's restart is still taken.
 *   timers  - it arms every endpoint timer the kernel lets it have; fsd is killed all
 *             the same and init's supervisor must still restart it.
 *   wait    - (a child of waiters) waits for a name nobody registers. */
#include <fs_client.h>
#include <registry.h>
#include "testlib.h"

static const char self[] = "tests/names";
#define MS 1000000ull


static struct fs_client fs;

/* Makes requests of fsd until one finds it gone (chaos= kills it at one of them): 1,
 * or 0 when it never died. */
static int until_fsd_dies(void) {
  if (fs_connect(&fs, 16 << 10) != 0) return 0;
  struct apus_fs_stat_reply stat;
  for (int request = 0; request < 400; request++) {
    if (fs_stat(&fs, "/", &stat) < 0) {
      printf("NAMES: fsd is gone (request %d)\n", request + 1);
      return 1;
    }
  }
  return 0;
}

/* The caller sees fsd gone (its call failed) a moment before fsd's handles are closed:
 * this waits until its endpoint has no reader, then looks fs up. The restart is 10 ms
 * later at least, so svcman has seen the death and keeps the name reserved for it:
 * not_found. */
static void until_fsd_is_torn_down(void) {
  for (int attempt = 0; attempt < 100000; attempt++) {
    int64_t state = apus_endpoint_status(fs.endpoint);
    if (apus_is_error(state) || (state & 1)) return;
    apus_yield();
  }
}

static int64_t lookup_fs_while_fsd_restarts(void) {
  until_fsd_is_torn_down();
  apus_handle_t found = 0;
  int64_t status = registry_lookup(REGISTRY_HANDLE, "fs", 0, &found);
  if (status == APUS_REGISTRY_STATUS_OK) apus_handle_close(found);
  return status;
}

/* Waits for fsd's name again (the restart) and checks the new fsd serves. */
static void reach_the_restarted_fsd(void) {
  until_fsd_is_torn_down(); /* or the lookup could still find the dead fsd */
  apus_handle_t found = 0;
  expect_eq("lookup fs, waiting for the restart", registry_lookup(REGISTRY_HANDLE, "fs", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found), 0);
  if (found) apus_handle_close(found);
  apus_handle_close(fs.endpoint);
  apus_vm_unmap((uint64_t)(uintptr_t)fs.buffer, 16 << 10);
  apus_handle_close(fs.shm);
  struct apus_fs_stat_reply stat;
  int64_t connected = fs_connect(&fs, 16 << 10);
  expect_eq("connect to the restarted fsd", connected, 0);
  if (connected == 0) expect_eq("stat / on the restarted fsd", fs_stat(&fs, "/", &stat), 0);
}

/* An ordinary program may add no name: a system one, a new one. */
static void cannot_add(const char *when) {
  char what[80];
  const char *names[] = {"fs", "names-new"};
  for (int i = 0; i < 2; i++) {
    int64_t endpoint = apus_endpoint_create();
    int64_t theirs = apus_is_error(endpoint) ? endpoint : apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
    snprintf(what, sizeof what, "add %s %s", names[i], when);
    expect_eq(what, registry_add(REGISTRY_HANDLE, names[i], (apus_handle_t)theirs), APUS_REGISTRY_STATUS_ACCESS_DENIED);
    apus_handle_close((apus_handle_t)endpoint);
  }
}

static int names(void) {
  apus_handle_t found = 0;
  cannot_add("while fsd lives");
  expect_eq("lookup block0", registry_lookup(REGISTRY_HANDLE, "block0", 0, &found), APUS_REGISTRY_STATUS_NOT_FOUND);
  expect_eq("lookup block0, waiting", registry_lookup(REGISTRY_HANDLE, "block0", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found),
            APUS_REGISTRY_STATUS_NOT_FOUND);
  expect_true("fsd died", until_fsd_dies());
  /* Its restart is 10 ms away: the name is reserved, not free. */
  expect_eq("lookup fs while fsd restarts", lookup_fs_while_fsd_restarts(), APUS_REGISTRY_STATUS_NOT_FOUND);
  cannot_add("after fsd died");
  reach_the_restarted_fsd();
  return finish("names");
}

/* A waiter thread of `hog`: waits for a name nobody registers. */
static void wait_for_never(uint64_t unused) {
  (void)unused;
  apus_handle_t found;
  registry_lookup(REGISTRY_HANDLE, "names-never", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found);
}

/* One client, five waits: four threads wait, and the fifth is refused. Exit code 0
 * when it was. */
static int hog(void) {
  for (int i = 0; i < 4; i++)
    if (apus_is_error(start_thread(wait_for_never, 0))) return 2;
  sleep_ms(100); /* the four are waiting */
  apus_handle_t found;
  int64_t fifth = registry_lookup(REGISTRY_HANDLE, "names-never", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found);
  apus_process_exit(fifth == APUS_REGISTRY_STATUS_BUSY ? 0 : 3); /* the waiting threads end with it */
  return 4;
}

static int waiters(void) {
  struct apus_handle_grant lookup_only = {REGISTRY_HANDLE, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER};
  expect_eq("a fifth waiting lookup of one client is busy", end_status(start_case_with(self, "hog", &lookup_only, 1)), 0);
  int64_t children[20];
  for (int i = 0; i < 20; i++) children[i] = start_case_with(self, "wait", &lookup_only, 1);
  sleep_ms(200); /* each is waiting in svcman */
  int killed = 0;
  for (int i = 0; i < 20; i++) {
    if (apus_is_error(children[i])) continue;
    killed += apus_process_kill((apus_handle_t)children[i]) == 0;
    end_status(children[i]);
  }
  expect_eq("waiters killed", killed, 20);
  printf("NAMES: 20 waiters killed\n");
  /* Their waits are gone with them: this one is taken and answered by the restart. */
  expect_true("fsd died", until_fsd_dies());
  expect_eq("lookup fs while fsd restarts", lookup_fs_while_fsd_restarts(), APUS_REGISTRY_STATUS_NOT_FOUND); /* so the next lookup waits */
  reach_the_restarted_fsd();
  return finish("waiters");
}

static int timers(void) {
  int armed = 0;
  int64_t last = 0;
  uint64_t later = (uint64_t)apus_time_now() + 3600000 * MS;
  for (int e = 0; e < 32 && !apus_is_error(last); e++) {
    int64_t endpoint = apus_endpoint_create(); /* kept open to the end: its timers stay armed */
    if (apus_is_error(endpoint)) break;
    for (uint32_t key = 0; key < 4; key++) {
      last = apus_endpoint_timer((apus_handle_t)endpoint, key, later);
      if (apus_is_error(last)) break;
      armed++;
    }
  }
  printf("NAMES: %d timers armed (the last arm: %ld)\n", armed, last);
  expect_true("fsd died", until_fsd_dies());
  reach_the_restarted_fsd();
  return finish("timers");
}

/* A system tool's adds (init=tool=): the handle that comes with an add must be an
 * endpoint; anything else was kept (and handed out) for ever, because it never looks
 * gone (the stateful protocol fuzzer, seed 7: 4 shm objects left in svcman). */
static int tool_adds(void) {
  int64_t shm = apus_shm_create(4096);
  expect_true("a shm object", !apus_is_error(shm));
  struct apus_system_info before, after;
  apus_system_info(&before);
  expect_eq("an add with a shm object instead of an endpoint", registry_add(REGISTRY_HANDLE, "names-shm", (apus_handle_t)shm),
            APUS_REGISTRY_STATUS_BAD_REQUEST);
  apus_handle_t found;
  expect_eq("names nothing", registry_lookup(REGISTRY_HANDLE, "names-shm", 0, &found), APUS_REGISTRY_STATUS_NOT_FOUND);
  apus_system_info(&after);
  expect_eq("and svcman kept nothing of it", (int64_t)after.objects, (int64_t)before.objects - 1);
  int64_t endpoint = apus_endpoint_create();
  expect_eq("an endpoint is added", registry_add(REGISTRY_HANDLE, "names-ok", (apus_handle_t)endpoint), APUS_REGISTRY_STATUS_OK);
  return finish("tool adds");
}

int main(int argc, char **argv) {
  test_name = "NAMES";
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "names") == 0) return names();
  if (strcmp(mode, "waiters") == 0) return waiters();
  if (strcmp(mode, "timers") == 0) return timers();
  if (strcmp(mode, "hog") == 0) return hog();
  if (strcmp(mode, "tool-adds") == 0) return tool_adds();
  if (strcmp(mode, "wait") == 0) {
    wait_for_never(0);
    return 0;
  }
  printf("NAMES: unknown mode %s\n", mode);
  return 1;
}
