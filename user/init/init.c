/* The first process. It holds the device resource (its handle 1) and plays driver
 * manager: it opens every PCI function, starts the driver its table names for it,
 * handing the driver that device's handle (handle 2) and nothing else of the
 * hardware, and closes its own copy, so a driver that dies leaves its device
 * quiesced. It starts the service registry (services/svcman) first; every program it
 * starts gets the registry endpoint as its handle 1: its servers with manage (they
 * register names and may look up devices), the programs it runs with write and
 * transfer only (they look up, never add: names are capabilities, issue 21) unless
 * the command line marks them as system tools (--tool=); the programs it runs get the
 * console (the kernel's handle 2 of init's) as their handle 2. Then it runs each program named in its arguments
 * (the kernel's `run=` options; `run=PATH,ARG,...` passes arguments) one after
 * another, waits for it and reports how it ended. At the end it stops the drivers,
 * closes the registry, which ends svcman, and waits for it.
 *
 * A driver's start is a handshake: its handle 3 is the write end of an endpoint only
 * it holds, and it sends one message there when it serves (after registering its
 * name); if it dies first, init's receive ends in peer_closed. So programs run only
 * after every driver is ready or known to have failed.
 *
 * Why init and not a separate drvman: matching is a table lookup, and a separate
 * manager would need init's resource and registry rights anyway. The drivers, fsd,
 * pkgd and netd are services of init's supervisor (supervisor.c): one that dies is
 * started again, with backoff, and given up after too many crashes; init keeps
 * handling deaths while it waits for a program.
 *
 * Options (the kernel's `init=X` arrives as `--X`):
 *   --driver-arg=ARG   passes ARG to every driver it starts (test hooks: blkdevd's
 *                      crash-after=N)
 *   --driver=VVVV:DDDD=PATH  starts PATH for devices with those ids, before the
 *                      table's entries (tests/drivers gives a test program a device)
 *   --service=PATH[,ARG,...]  supervises PATH as one more server (started last)
 *   --tool=PATH        run= programs at PATH are system tools: their registry handle
 *                      has manage (they may add names and look up block devices);
 *                      only the machine's owner, through the kernel command line,
 *                      gives that (tests/blkclient, bench/block, tests/protofuzz)
 *   --restart-limit=N  gives a service up after N crashes within the window (5)
 *   --restart-window-ms=MS  the window (10000)
 *   --restart-backoff-ms=MS  the longest wait before a restart (1280)
 *   --no-tick          the kernel runs without its tick (make bench): no timers, so
 *                      starts wait on the server's ready message, and restarts are
 *                      not made */
#include <stdio.h>
#include <string.h>
#include <apus/syscall.h>
#include <fs_client.h>
#include "supervisor.h"

#define RESOURCE_HANDLE ((apus_handle_t)1)
#define CONSOLE_HANDLE ((apus_handle_t)2)

/* Starts `path` with the NUL-separated `args` (argv[0] first) and `grants`. */
static int64_t start(const char *path, const char *args, size_t args_len, const struct apus_handle_grant *grants,
                     uint64_t count) {
  return apus_process_spawn_handles((const uint8_t *)path, strlen(path), (const uint8_t *)args, args_len, grants, count);
}

/* Which driver serves a device, by PCI ids. virtio-blk: 1042 is the modern id, 1001
 * the transitional one (QEMU's default, which also speaks virtio 1.0); virtio-net:
 * 1041 and 1000 (netd is the card's driver and the network server in one). */
struct driver { uint16_t vendor, device; const char *path, *name_prefix; };
static struct driver drivers[] = {
  {0, 0, NULL, "test"}, /* --driver= */
  {0x1af4, 0x1042, "services/blkdevd", "block"},
  {0x1af4, 0x1001, "services/blkdevd", "block"},
  {0x1af4, 0x1041, "services/netd", "net"},
  {0x1af4, 0x1000, "services/netd", "net"},
};

/* "services/blkdevd" → "blkdevd": services' names in log lines. */
static const char *last_component(const char *path) {
  const char *last = path;
  for (const char *c = path; *c; c++)
    if (*c == '/') last = c + 1;
  return last;
}

static uint64_t number_after(const char *text) {
  uint64_t value = 0;
  for (; *text >= '0' && *text <= '9'; text++) value = value * 10 + (uint64_t)(*text - '0');
  return value;
}

static unsigned hex_value(const char *text, unsigned digits) {
  unsigned value = 0;
  for (unsigned i = 0; i < digits; i++) {
    char c = text[i];
    value = value * 16 + (unsigned)(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0);
  }
  return value;
}

static struct service *fsd; /* the filesystem server, once started */

#define MAX_DRIVERS 8
static struct service *running[MAX_DRIVERS];
static const struct driver *running_driver[MAX_DRIVERS];
static int running_count;

static void start_drivers(apus_handle_t registry, const char *driver_arg) {
  for (uint32_t index = 0;; index++) {
    struct apus_device_info info;
    int64_t device = apus_device_open(RESOURCE_HANDLE, index, &info);
    if (device == -(int64_t)APUS_ERR_NOT_FOUND) break;
    if (apus_is_error(device)) {
      printf("INIT: cannot open device %u: error %ld\n", index, -device);
      break;
    }
    apus_handle_close((apus_handle_t)device); /* the supervisor opens it for each start */
    for (unsigned d = 0; d < sizeof drivers / sizeof drivers[0]; d++) {
      if (!drivers[d].path || drivers[d].vendor != info.vendor || drivers[d].device != info.device_id) continue;
      if (running_count == MAX_DRIVERS) {
        printf("INIT: no room for another driver\n");
        break;
      }
      /* argv: path, the name to register (block0, block1, ...), then the option. */
      int number = 0;
      for (int i = 0; i < running_count; i++) number += strcmp(running_driver[i]->name_prefix, drivers[d].name_prefix) == 0;
      char args[192], label[32];
      size_t len = 0;
      len += (size_t)snprintf(args + len, sizeof args - len, "%s", drivers[d].path) + 1;
      len += (size_t)snprintf(args + len, sizeof args - len, "%s%d", drivers[d].name_prefix, number) + 1;
      if (driver_arg) len += (size_t)snprintf(args + len, sizeof args - len, "%s", driver_arg) + 1;
      snprintf(label, sizeof label, "%s", last_component(drivers[d].path));
      struct apus_handle_grant grants[1] = {{registry, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | APUS_RIGHT_MANAGE}};
      printf("INIT: started %s for %02x:%02x.%u (%04x:%04x) as %s%d\n", drivers[d].path, info.bus, info.slot,
             info.function, info.vendor, info.device_id, drivers[d].name_prefix, number);
      struct service *s = supervisor_add(label, drivers[d].path, args, len, grants, 1, (int)index);
      if (!s) break;
      running[running_count] = s;
      running_driver[running_count++] = &drivers[d];
      if (!supervisor_start(s)) printf("INIT: %s for %s%d failed to start\n", drivers[d].path, drivers[d].name_prefix, number);
      break;
    }
  }
}

/* A supervised server that is not a driver: fsd, pkgd, --service=PATH[,ARG,...]
 * (the commas become the arguments' separators). */
static struct service *start_service(const char *entry, apus_handle_t registry) {
  char args[192];
  size_t len = strlen(entry);
  if (len >= sizeof args) {
    printf("INIT: %s: too long\n", entry);
    return NULL;
  }
  memcpy(args, entry, len + 1);
  for (size_t i = 0; i < len; i++)
    if (args[i] == ',') args[i] = 0;
  const char *path = args;
  struct apus_handle_grant grants[1] = {{registry, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | APUS_RIGHT_MANAGE}};
  struct service *s = supervisor_add(last_component(path), path, args, len + 1, grants, 1, -1);
  if (!s) {
    printf("INIT: no room to supervise %s\n", path);
    return NULL;
  }
  if (!supervisor_start(s)) printf("INIT: %s failed to start\n", path);
  return s;
}

/* fsd, once a disk has a driver that is ready: it mounts block0 and serves `fs`; then
 * pkgd, which keeps the package store on it. */
static void start_filesystem(apus_handle_t registry) {
  int have_disk = 0;
  for (int i = 0; i < running_count; i++)
    have_disk |= running[i]->ready && strcmp(running_driver[i]->name_prefix, "block") == 0;
  if (!have_disk) return;
  fsd = start_service("services/fsd", registry);
  if (fsd && fsd->ready) start_service("services/pkgd", registry);
}

/* The run= paths the command line made system tools (--tool=PATH). */
#define TOOL_MAX 4
static const char *tools[TOOL_MAX];
static int tool_count;

static int is_tool(const char *path) {
  for (int i = 0; i < tool_count; i++)
    if (strcmp(tools[i], path) == 0) return 1;
  return 0;
}

/* Runs one `run=` entry: PATH or PATH,ARG,... An ordinary program's registry handle
 * looks names up and cannot add; a system tool's has manage. */
static int run_program(const char *entry, apus_handle_t registry) {
  char args[256];
  size_t len = strlen(entry);
  if (len >= sizeof args) {
    printf("INIT: %s: too long\n", entry);
    return 1;
  }
  memcpy(args, entry, len + 1);
  for (size_t i = 0; i < len; i++)
    if (args[i] == ',') args[i] = 0;
  const char *path = args;
  uint32_t registry_rights = APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | (is_tool(path) ? APUS_RIGHT_MANAGE : 0);
  struct apus_handle_grant client[2] = {
    {registry, registry_rights},
    {CONSOLE_HANDLE, APUS_RIGHT_READ | APUS_RIGHT_MANAGE | APUS_RIGHT_TRANSFER},
  };
  int64_t child;
  if (path[0] == '/') { /* from the filesystem */
    static struct fs_client fs;
    static int connected;
    child = -(int64_t)APUS_ERR_PEER_CLOSED;
    for (int attempt = 0; attempt < 2 && child == -(int64_t)APUS_ERR_PEER_CLOSED; attempt++) {
      if (!connected || attempt > 0) { /* first use, or fsd was restarted since */
        int64_t status = fsd && fsd->ready ? fs_connect_through(&fs, registry, 64 << 10) : -(int64_t)APUS_ERR_NOT_FOUND;
        if (status != 0) {
          printf("INIT: no filesystem to run %s from\n", path);
          return 1;
        }
        connected = 1;
      }
      child = fs_spawn(&fs, path, args, len + 1, client, 2);
    }
    if (child <= -1000) {
      printf("INIT: cannot run %s: %s\n", path, fs_status_name(-child - 1000));
      return 1;
    }
  } else {
    child = start(path, args, len + 1, client, 2);
  }
  if (apus_is_error(child)) {
    printf("INIT: cannot start %s: error %ld\n", path, -child);
    return 1;
  }
  struct apus_process_status status;
  int64_t waited = supervisor_wait((apus_handle_t)child, &status);
  apus_handle_close((apus_handle_t)child);
  if (apus_is_error(waited)) {
    printf("INIT: waiting for %s failed: error %ld\n", path, -waited);
    return 1;
  }
  if (status.reason == APUS_EXIT_REASON_EXITED) {
    printf("INIT: %s exited code=%ld\n", path, status.code);
    return status.code != 0;
  }
  printf("INIT: %s died reason=%s addr=%p rip=%p\n", path, supervisor_reason_name(status.reason), (void *)status.fault_address,
         (void *)status.fault_ip);
  return 0;
}

/* How long svcman may take to end once init's registry handle is gone. */
#define SVCMAN_GRACE_MS 2000

/* Whether `process` ends within `ms` (a private endpoint hears its end or the timer;
 * without a tick, under make bench, it waits for the end itself). */
static int svcman_ended_within(apus_handle_t process, uint64_t ms) {
  int64_t endpoint = apus_endpoint_create();
  if (apus_is_error(endpoint)) return 1;
  apus_handle_t events = (apus_handle_t)endpoint;
  int armed = !apus_is_error(apus_endpoint_timer(events, 1, apus_time_now() + ms * 1000000ull));
  uint64_t bits = 0;
  if (!apus_is_error(apus_process_watch(process, events, 0))) {
    struct apus_ipc_recv_info info;
    while (!(bits & 1) && (armed ? !(bits & 2) : 1)) {
      uint64_t got = 0;
      if (apus_is_error(apus_ipc_recv(events, (uint8_t *)&got, sizeof got, NULL, 0, &info))) break;
      bits |= got;
    }
  }
  apus_handle_close(events);
  return (bits & 1) != 0;
}

int main(int argc, char **argv) {
  printf("USER: hello\n");
  int failures = 0;
  const char *driver_arg = NULL, *extra_service = NULL;
  unsigned restart_limit = 5;
  uint64_t restart_window = 10000, restart_backoff = 1280;
  int first_program = 1;
  for (; first_program < argc && strncmp(argv[first_program], "--", 2) == 0; first_program++) {
    if (strncmp(argv[first_program], "--driver-arg=", 13) == 0) {
      driver_arg = argv[first_program] + 13;
    } else if (strncmp(argv[first_program], "--driver=", 9) == 0 && strlen(argv[first_program]) > 19 &&
               argv[first_program][13] == ':' && argv[first_program][18] == '=') {
      drivers[0].vendor = (uint16_t)hex_value(argv[first_program] + 9, 4);
      drivers[0].device = (uint16_t)hex_value(argv[first_program] + 14, 4);
      drivers[0].path = argv[first_program] + 19;
    } else if (strcmp(argv[first_program], "--no-tick") == 0) {
      supervisor_without_timer();
    } else if (strncmp(argv[first_program], "--service=", 10) == 0) {
      extra_service = argv[first_program] + 10;
    } else if (strncmp(argv[first_program], "--tool=", 7) == 0) {
      if (tool_count < TOOL_MAX) tools[tool_count++] = argv[first_program] + 7;
      else printf("INIT: too many tools: %s is an ordinary program\n", argv[first_program] + 7);
    } else if (strncmp(argv[first_program], "--restart-limit=", 16) == 0) {
      restart_limit = (unsigned)number_after(argv[first_program] + 16);
    } else if (strncmp(argv[first_program], "--restart-window-ms=", 20) == 0) {
      restart_window = number_after(argv[first_program] + 20);
    } else if (strncmp(argv[first_program], "--restart-backoff-ms=", 21) == 0) {
      restart_backoff = number_after(argv[first_program] + 21);
    } else {
      printf("INIT: unknown option %s ignored\n", argv[first_program]);
    }
  }

  int64_t registry = apus_endpoint_create();
  if (!apus_is_error(registry)) apus_endpoint_label((apus_handle_t)registry, (const uint8_t *)"registry", 8);
  if (apus_is_error(registry)) {
    printf("INIT: no registry endpoint: error %ld\n", -registry);
    return 1;
  }
  supervisor_setup(RESOURCE_HANDLE, (apus_handle_t)registry);
  supervisor_limits(restart_limit, restart_window, restart_backoff);
  /* svcman: the registry's read end, and the journal (supervisor.h). */
  struct apus_handle_grant serve[2] = {{(uint32_t)registry, APUS_RIGHT_READ}, {supervisor_journal(), APUS_RIGHT_WRITE}};
  static const char svcman_args[] = "services/svcman";
  struct service *svcman = supervisor_add("svcman", "services/svcman", svcman_args, sizeof svcman_args, serve, 2, -1);
  if (!svcman) return 1;
  svcman->registry = 1;
  if (!supervisor_start(svcman)) {
    printf("INIT: services/svcman failed to start\n");
    return 1;
  }
  start_drivers((apus_handle_t)registry, driver_arg);
  start_filesystem((apus_handle_t)registry);
  if (extra_service) start_service(extra_service, (apus_handle_t)registry);
  for (int i = first_program; i < argc; i++) failures += run_program(argv[i], (apus_handle_t)registry);
  supervisor_stop_all();

  /* No writer to the registry is left once our handle goes: svcman ends by itself,
   * unless a program left processes behind that still hold a registry handle (a child
   * that outlived its parent). Those must not keep the machine from halting: after a
   * grace period svcman is ended, and the kernel halts with them still there. */
  apus_handle_close((apus_handle_t)registry);
  struct apus_process_status ended;
  if (svcman->process >= 0) {
    if (!svcman_ended_within((apus_handle_t)svcman->process, SVCMAN_GRACE_MS)) {
      printf("INIT: processes left by programs still hold the registry: ending svcman\n");
      apus_process_kill((apus_handle_t)svcman->process);
      apus_process_wait((apus_handle_t)svcman->process, &ended);
    } else if (apus_is_error(apus_process_wait((apus_handle_t)svcman->process, &ended)) ||
               ended.reason != APUS_EXIT_REASON_EXITED || ended.code != 0) {
      printf("INIT: services/svcman ended wrong\n");
      failures++;
    }
  }
  printf("INIT: done failures=%d\n", failures);
  return failures;
}
