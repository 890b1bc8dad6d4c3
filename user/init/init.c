/* The first process. It holds the device resource (its handle 1) and plays driver
 * manager: it opens every PCI function, starts the driver its table names for it,
 * handing the driver that device's handle (handle 2) and nothing else of the
 * hardware, and closes its own copy, so a driver that dies leaves its device
 * quiesced. It starts the service registry (services/svcman) first; every program it
 * starts gets the registry endpoint as its handle 1 (write, transfer, manage: boot
 * programs may register names); the programs it runs get the console (the kernel's
 * handle 2 of init's) as their handle 2. Then it runs each program named in its arguments
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
 * manager would need init's resource and registry rights anyway; the supervisor that
 * restarts drivers (issue 16) will sit where they are started.
 *
 * Options (the kernel's `init=X` arrives as `--X`):
 *   --driver-arg=ARG   passes ARG to every driver it starts (test hooks: blkdevd's
 *                      crash-after=N)
 *   --driver=VVVV:DDDD=PATH  starts PATH for devices with those ids, before the
 *                      table's entries (tests/drivers gives a test program a device). */
#include <stdio.h>
#include <string.h>
#include <apus/syscall.h>
#include <fs_client.h>

#define RESOURCE_HANDLE ((apus_handle_t)1)
#define CONSOLE_HANDLE ((apus_handle_t)2)

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

/* Starts `path` with the NUL-separated `args` (argv[0] first) and `grants`. */
static int64_t start(const char *path, const char *args, size_t args_len, const struct apus_handle_grant *grants,
                     uint64_t count) {
  return apus_process_spawn_handles((const uint8_t *)path, strlen(path), (const uint8_t *)args, args_len, grants, count);
}

/* Starts `path` with `grants` plus, as its last handle, the write end of an endpoint
 * only it holds, and waits until it sends one message there (it serves) or dies
 * first. Returns its process handle (ready or not; *ready says), or a negated error. */
static int64_t start_and_wait(const char *path, const char *args, size_t args_len, struct apus_handle_grant *grants,
                              uint64_t count, int *ready) {
  *ready = 0;
  int64_t endpoint = apus_endpoint_create();
  int64_t reader = apus_is_error(endpoint) ? endpoint : apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_READ);
  if (apus_is_error(reader)) return reader;
  grants[count] = (struct apus_handle_grant){(apus_handle_t)endpoint, APUS_RIGHT_WRITE};
  int64_t child = start(path, args, args_len, grants, count + 1);
  apus_handle_close((apus_handle_t)endpoint); /* the child holds the only write end */
  if (!apus_is_error(child)) {
    uint8_t note[8];
    struct apus_ipc_recv_info received;
    *ready = !apus_is_error(apus_ipc_recv((apus_handle_t)reader, note, sizeof note, NULL, 0, &received));
  }
  apus_handle_close((apus_handle_t)reader);
  return child;
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

static unsigned hex_value(const char *text, unsigned digits) {
  unsigned value = 0;
  for (unsigned i = 0; i < digits; i++) {
    char c = text[i];
    value = value * 16 + (unsigned)(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0);
  }
  return value;
}

static int64_t fsd = -1;  /* the filesystem server's process, once started */
static int64_t pkgd = -1; /* the package manager's */

#define MAX_DRIVERS 8
static int64_t running[MAX_DRIVERS];
static const struct driver *running_driver[MAX_DRIVERS];
static int running_ready[MAX_DRIVERS];
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
    for (unsigned d = 0; d < sizeof drivers / sizeof drivers[0]; d++) {
      if (!drivers[d].path || drivers[d].vendor != info.vendor || drivers[d].device != info.device_id) continue;
      if (running_count == MAX_DRIVERS) {
        printf("INIT: no room for another driver\n");
        break;
      }
      /* argv: path, the name to register (block0, block1, ...), then the option. */
      int number = 0;
      for (int i = 0; i < running_count; i++) number += strcmp(running_driver[i]->name_prefix, drivers[d].name_prefix) == 0;
      char args[192];
      size_t len = 0;
      len += (size_t)snprintf(args + len, sizeof args - len, "%s", drivers[d].path) + 1;
      len += (size_t)snprintf(args + len, sizeof args - len, "%s%d", drivers[d].name_prefix, number) + 1;
      if (driver_arg) len += (size_t)snprintf(args + len, sizeof args - len, "%s", driver_arg) + 1;
      struct apus_handle_grant grants[3] = {
        {registry, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | APUS_RIGHT_MANAGE},
        {(apus_handle_t)device, APUS_RIGHT_READ | APUS_RIGHT_MAP | APUS_RIGHT_INTERRUPT | APUS_RIGHT_DMA},
      };
      printf("INIT: started %s for %02x:%02x.%u (%04x:%04x) as %s%d\n", drivers[d].path, info.bus, info.slot,
             info.function, info.vendor, info.device_id, drivers[d].name_prefix, number);
      int ready;
      int64_t child = start_and_wait(drivers[d].path, args, len, grants, 2, &ready);
      if (apus_is_error(child)) {
        printf("INIT: cannot start %s: error %ld\n", drivers[d].path, -child);
      } else {
        running[running_count] = child;
        running_ready[running_count] = ready;
        running_driver[running_count++] = &drivers[d];
        if (!ready) printf("INIT: %s for %s%d failed to start\n", drivers[d].path, drivers[d].name_prefix, number);
      }
      break;
    }
    apus_handle_close((apus_handle_t)device); /* the driver holds its own */
  }
}

/* Ends every driver (they serve until killed) and reports the ones that died before. */
static void stop_drivers(void) {
  if (pkgd > 0) {
    apus_process_kill((apus_handle_t)pkgd);
    struct apus_process_status status;
    apus_process_wait((apus_handle_t)pkgd, &status);
    apus_handle_close((apus_handle_t)pkgd);
  }
  if (fsd > 0) { /* it writes back what it holds when idle; nothing is lost by the kill */
    apus_process_kill((apus_handle_t)fsd);
    struct apus_process_status status;
    apus_process_wait((apus_handle_t)fsd, &status);
    apus_handle_close((apus_handle_t)fsd);
  }
  for (int i = 0; i < running_count; i++) {
    apus_process_kill((apus_handle_t)running[i]);
    struct apus_process_status status;
    apus_process_wait((apus_handle_t)running[i], &status);
    apus_handle_close((apus_handle_t)running[i]);
    if (status.reason != APUS_EXIT_REASON_KILLED) {
      printf("INIT: driver %s had ended: reason=%s code=%ld\n", running_driver[i]->path, reason_name(status.reason), status.code);
    }
  }
}

/* fsd, once a disk has a driver that is ready: it mounts block0 and serves `fs`; then
 * pkgd, which keeps the package store on it. */

static void start_filesystem(apus_handle_t registry) {
  int have_disk = 0;
  for (int i = 0; i < running_count; i++)
    have_disk |= running_ready[i] && strcmp(running_driver[i]->name_prefix, "block") == 0;
  if (!have_disk) return;
  static const char args[] = "services/fsd";
  struct apus_handle_grant grants[2] = {{registry, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | APUS_RIGHT_MANAGE}};
  int ready;
  fsd = start_and_wait("services/fsd", args, sizeof args, grants, 1, &ready);
  if (apus_is_error(fsd)) {
    printf("INIT: cannot start services/fsd: error %ld\n", -fsd);
  } else if (!ready) {
    printf("INIT: services/fsd failed to start\n");
  } else { /* the package manager, on the filesystem fsd serves */
    static const char pkgd_args[] = "services/pkgd";
    pkgd = start_and_wait("services/pkgd", pkgd_args, sizeof pkgd_args, grants, 1, &ready);
    if (apus_is_error(pkgd)) printf("INIT: cannot start services/pkgd: error %ld\n", -pkgd);
    else if (!ready) printf("INIT: services/pkgd failed to start\n");
  }
}

/* Runs one `run=` entry: PATH or PATH,ARG,... */
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
  struct apus_handle_grant client[2] = {
    {registry, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | APUS_RIGHT_MANAGE},
    {CONSOLE_HANDLE, APUS_RIGHT_READ | APUS_RIGHT_MANAGE | APUS_RIGHT_TRANSFER},
  };
  int64_t child;
  if (path[0] == '/') { /* from the filesystem */
    static struct fs_client fs;
    static int connected;
    if (!connected) {
      int64_t status = fsd > 0 ? fs_connect_through(&fs, registry, 64 << 10) : -(int64_t)APUS_ERR_NOT_FOUND;
      if (status != 0) {
        printf("INIT: no filesystem to run %s from\n", path);
        return 1;
      }
      connected = 1;
    }
    child = fs_spawn(&fs, path, args, len + 1, client, 2);
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
  int64_t waited = apus_process_wait((apus_handle_t)child, &status);
  apus_handle_close((apus_handle_t)child);
  if (apus_is_error(waited)) {
    printf("INIT: waiting for %s failed: error %ld\n", path, -waited);
    return 1;
  }
  if (status.reason == APUS_EXIT_REASON_EXITED) {
    printf("INIT: %s exited code=%ld\n", path, status.code);
    return status.code != 0;
  }
  printf("INIT: %s died reason=%s addr=%p rip=%p\n", path, reason_name(status.reason), (void *)status.fault_address,
         (void *)status.fault_ip);
  return 0;
}

int main(int argc, char **argv) {
  printf("USER: hello\n");
  int failures = 0;
  const char *driver_arg = NULL;
  int first_program = 1;
  for (; first_program < argc && strncmp(argv[first_program], "--", 2) == 0; first_program++) {
    if (strncmp(argv[first_program], "--driver-arg=", 13) == 0) {
      driver_arg = argv[first_program] + 13;
    } else if (strncmp(argv[first_program], "--driver=", 9) == 0 && strlen(argv[first_program]) > 19 &&
               argv[first_program][13] == ':' && argv[first_program][18] == '=') {
      drivers[0].vendor = (uint16_t)hex_value(argv[first_program] + 9, 4);
      drivers[0].device = (uint16_t)hex_value(argv[first_program] + 14, 4);
      drivers[0].path = argv[first_program] + 19;
    } else {
      printf("INIT: unknown option %s ignored\n", argv[first_program]);
    }
  }

  int64_t registry = apus_endpoint_create();
  if (!apus_is_error(registry)) apus_endpoint_label((apus_handle_t)registry, (const uint8_t *)"registry", 8);
  struct apus_handle_grant serve = {(uint32_t)registry, APUS_RIGHT_READ};
  static const char svcman_args[] = "services/svcman";
  int64_t svcman = apus_is_error(registry) ? registry : start("services/svcman", svcman_args, sizeof svcman_args, &serve, 1);
  if (apus_is_error(svcman)) {
    printf("INIT: cannot start services/svcman: error %ld\n", -svcman);
    return 1;
  }
  start_drivers((apus_handle_t)registry, driver_arg);
  start_filesystem((apus_handle_t)registry);
  for (int i = first_program; i < argc; i++) failures += run_program(argv[i], (apus_handle_t)registry);
  stop_drivers();

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
