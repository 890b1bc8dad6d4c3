/* init's supervisor: see supervisor.h. */
#include <stdio.h>
#include <string.h>
#include <registry.h>
#include "supervisor.h"

#define SERVICE_MAX 12
#define PROGRAM_KEY 62
#define TIMER_KEY 63
#define MS 1000000ull
#define POLL_INTERVAL (10 * MS)   /* readiness is checked this often while a start is pending */
#define BACKOFF_FIRST (10 * MS)

static struct service services[SERVICE_MAX];
static int service_count;
static apus_handle_t events, events_writer, resource, registry_endpoint;

/* The registry's journal: the latest add per name, with a handle to its endpoint. */
#define JOURNAL_MAX 32
static struct {
  struct apus_registry_add_request add;
  apus_handle_t endpoint; /* 0: free */
} journal[JOURNAL_MAX];

static unsigned crash_limit = 5;
static uint64_t crash_window = 10000 * MS;
static uint64_t backoff_max = 1280 * MS; /* 10 ms doubling up to this */
static uint64_t armed_deadline;
static int no_timer;
/* The deadline the kernel would not arm a timer for (0: none): init watches the clock
 * for it instead, polling its events, until an arm succeeds again. */
static uint64_t clock_deadline;
static int timer_refused; /* said so: once per spell of refusals */
#define GIVE_UP_PAUSES_MAX 4 /* the pause after a give-up: the window, doubling up to 16 windows */

void supervisor_without_timer(void) { no_timer = 1; }

static void queue_journal(void);
static uint64_t handle_bits(uint64_t bits);
static void check_ready_now(struct service *s);
static uint64_t started_at[SERVICE_MAX], started_ns[SERVICE_MAX]; /* the last start, for the restart time */
static uint64_t backoff_of[SERVICE_MAX];  /* the backoff before the last restart */

static uint64_t now(void) { return (uint64_t)apus_time_now(); }

static uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

const char *supervisor_reason_name(apus_exit_reason_t reason) {
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

apus_handle_t supervisor_journal(void) { return events_writer; }

void supervisor_setup(apus_handle_t device_resource, apus_handle_t registry) {
  resource = device_resource;
  registry_endpoint = registry;
  int64_t endpoint = apus_endpoint_create();
  int64_t writer = apus_is_error(endpoint) ? endpoint : apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
  if (apus_is_error(writer)) {
    printf("SUPERVISOR: no event endpoint (error %ld): servers that die stay dead\n", -writer);
    return;
  }
  events = (apus_handle_t)endpoint;
  events_writer = (apus_handle_t)writer; /* process_watch posts through it; it also keeps receives waiting */
}

void supervisor_limits(unsigned limit, uint64_t window_ms, uint64_t backoff_max_ms) {
  crash_limit = limit ? limit : 1;
  if (crash_limit > SUPERVISOR_CRASHES_KEPT) crash_limit = SUPERVISOR_CRASHES_KEPT;
  crash_window = window_ms * MS;
  backoff_max = backoff_max_ms * MS;
}

struct service *supervisor_add(const char *label, const char *path, const char *args, size_t args_len,
                               const struct apus_handle_grant *grants, uint64_t grant_count, int device_index) {
  if (service_count == SERVICE_MAX || args_len > sizeof services[0].args || grant_count > 2) return NULL;
  struct service *s = &services[service_count++];
  memset(s, 0, sizeof *s);
  snprintf(s->label, sizeof s->label, "%s", label);
  snprintf(s->path, sizeof s->path, "%s", path);
  memcpy(s->args, args, args_len);
  s->args_len = args_len;
  memcpy(s->grants, grants, grant_count * sizeof *grants);
  s->grant_count = grant_count;
  s->device_index = device_index;
  s->process = -1;
  return s;
}

/* Starts an instance: its handles are the service's grants, the device (opened
 * afresh: the last one's handle closed with it) and the write end of an endpoint only
 * it holds, to say it is ready on. 0 when it could not even be started. */
/* Why the last launch failed (a negated error), 0 when it did not. */
static int64_t launch_error;

static int launch(struct service *s) {
  struct apus_handle_grant grants[4];
  uint64_t count = s->grant_count;
  memcpy(grants, s->grants, count * sizeof *grants);
  int64_t device = -1;
  if (s->device_index >= 0) {
    struct apus_device_info info;
    device = apus_device_open(resource, (uint32_t)s->device_index, &info);
    if (apus_is_error(device)) {
      printf("SUPERVISOR: cannot open device %d for %s: error %ld\n", s->device_index, s->label, -device);
      return 0;
    }
    grants[count++] = (struct apus_handle_grant){(apus_handle_t)device, APUS_RIGHT_READ | APUS_RIGHT_MAP | APUS_RIGHT_INTERRUPT | APUS_RIGHT_DMA};
  }
  int64_t endpoint = apus_endpoint_create();
  int64_t reader = apus_is_error(endpoint) ? endpoint : apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_READ);
  int64_t child = reader;
  if (!apus_is_error(reader)) {
    grants[count++] = (struct apus_handle_grant){(apus_handle_t)endpoint, APUS_RIGHT_WRITE};
    child = apus_process_spawn_handles((const uint8_t *)s->path, strlen(s->path), (const uint8_t *)s->args, s->args_len, grants, count);
  }
  if (!apus_is_error(endpoint)) apus_handle_close((apus_handle_t)endpoint); /* the child holds the only write end */
  if (device >= 0) apus_handle_close((apus_handle_t)device);                /* and its own device handle */
  if (apus_is_error(child)) {
    if (!apus_is_error(reader)) apus_handle_close((apus_handle_t)reader);
    printf("SUPERVISOR: cannot start %s: error %ld\n", s->path, -child);
    launch_error = child;
    return 0;
  }
  s->process = child;
  s->ready_endpoint = (apus_handle_t)reader;
  s->ready = 0;
  s->starts++;
  started_at[s - services] = rdtsc();
  started_ns[s - services] = now();
  if (s->starts > 1)
    printf("SUPERVISOR: restarted %s (exit reason=%s, count=%u) after %lu ms\n", s->label,
           supervisor_reason_name(s->last_reason), s->starts - 1, (unsigned long)(backoff_of[s - services] / MS));
  int64_t watched = apus_process_watch((apus_handle_t)child, events_writer, (uint32_t)(s - services));
  if (apus_is_error(watched)) printf("SUPERVISOR: cannot watch %s: error %ld\n", s->label, -watched);
  return 1;
}


/* Crashes of `s` within the window that ends at `t` (this one included). */
static unsigned recent_crashes(const struct service *s, uint64_t t) {
  unsigned recent = 0;
  for (unsigned i = 0; i < SUPERVISOR_CRASHES_KEPT; i++)
    if (s->crash_times[i] && t - s->crash_times[i] <= crash_window) recent++;
  return recent;
}

/* A crash (a death or a start that failed): restart after a backoff, or give up for
 * a pause that doubles with each give-up in a row. Crashes older than the window no
 * longer count, so a server that was stable for a window has all its restarts back. */
static void crashed(struct service *s) {
  uint64_t t = now();
  if (s->starts && t - started_ns[s - services] >= crash_window) s->give_ups = 0; /* it had been stable */
  s->crash_times[s->crash_next++ % SUPERVISOR_CRASHES_KEPT] = t;
  unsigned recent = recent_crashes(s, t);
  if (recent >= crash_limit) {
    s->given_up = 1;
    unsigned doublings = s->give_ups < GIVE_UP_PAUSES_MAX ? s->give_ups : GIVE_UP_PAUSES_MAX;
    uint64_t pause = crash_window << doublings;
    s->give_ups++;
    printf("SUPERVISOR: gave up on %s: %u crashes within %lu ms (last: %s)", s->label, recent,
           (unsigned long)(crash_window / MS), supervisor_reason_name(s->last_reason));
    if (no_timer || s->stopping) {
      printf("\n");
      return;
    }
    printf("; trying again in %lu ms\n", (unsigned long)(pause / MS));
    s->restart_at = t + pause;
    return;
  }
  if (no_timer) {
    printf("SUPERVISOR: %s is not restarted (no tick: make bench)\n", s->label);
    return;
  }
  uint64_t backoff = BACKOFF_FIRST;
  for (unsigned i = 1; i < recent && backoff < backoff_max; i++) backoff *= 2;
  if (backoff > backoff_max) backoff = backoff_max;
  backoff_of[s - services] = backoff;
  s->restart_at = t + backoff;
}

static void died(struct service *s) {
  if (s->process < 0) return;
  struct apus_process_status status;
  apus_process_wait((apus_handle_t)s->process, &status); /* ended: this does not wait */
  apus_handle_close((apus_handle_t)s->process);
  s->process = -1;
  if (s->ready_endpoint) {
    apus_handle_close(s->ready_endpoint);
    s->ready_endpoint = 0;
  }
  s->ready = 0;
  s->last_reason = status.reason;
  if (s->stopping) return;
  if (status.reason == APUS_EXIT_REASON_EXITED && status.code == 2) { /* it refused: starting it again would refuse again */
    s->given_up = s->refused = 1;
    printf("SUPERVISOR: %s refused to start (exit code 2): not restarted\n", s->label);
    return;
  }
  printf("SUPERVISOR: %s died (reason=%s code=%ld)\n", s->label, supervisor_reason_name(status.reason), status.code);
  if (s->registry) queue_journal();
  crashed(s);
}

/* A pending start has said it is ready (a message on its ready endpoint)? */
static void check_ready(struct service *s) {
  if (s->process < 0 || s->ready || !s->ready_endpoint) return;
  int64_t state = apus_endpoint_status(s->ready_endpoint);
  if (apus_is_error(state) || ((state >> 8) & 0xff) == 0) return;
  uint8_t note[8];
  struct apus_ipc_recv_info received;
  apus_ipc_recv(s->ready_endpoint, note, sizeof note, NULL, 0, &received);
  check_ready_now(s);
}

/* The ready message has been taken: the start is done. */
static void check_ready_now(struct service *s) {
  apus_handle_close(s->ready_endpoint);
  s->ready_endpoint = 0;
  s->ready = 1;
  if (s->starts > 1)
    printf("SUPERVISOR: %s serves again, %lu ticks (%lu us) after its restart\n", s->label, rdtsc() - started_at[s - services],
           (now() - started_ns[s - services]) / 1000);
}

/* Arms the timer for the earliest restart, or the next readiness poll. */
static void rearm(void) {
  uint64_t deadline = UINT64_MAX;
  for (int i = 0; i < service_count; i++) {
    struct service *s = &services[i];
    if (s->restart_at && s->restart_at < deadline) deadline = s->restart_at;
    if (s->process >= 0 && !s->ready && now() + POLL_INTERVAL < deadline) deadline = now() + POLL_INTERVAL;
  }
  if (deadline == UINT64_MAX || no_timer) deadline = 0;
  if (deadline == armed_deadline) return;
  int64_t armed = apus_endpoint_timer(events, TIMER_KEY, deadline);
  if (apus_is_error(armed)) { /* a full timer table once left a crashed fsd dead: watch the clock instead */
    if (!timer_refused) printf("SUPERVISOR: cannot arm its timer (error %ld): watching the clock instead\n", -armed);
    timer_refused = 1;
    clock_deadline = deadline;
    return; /* armed_deadline unchanged: the next event tries again */
  }
  if (timer_refused) printf("SUPERVISOR: its timer is armed again\n");
  timer_refused = 0;
  clock_deadline = 0;
  armed_deadline = deadline;
}

/* While init watches the clock, a receive must not block: a message of its own is
 * queued (when none is) so the receive returns at once, and the CPU is yielded. */
static void poll_events(void) {
  int64_t state = apus_endpoint_status(events);
  if (!apus_is_error(state) && ((state >> 8) & 0xff) == 0) {
    uint64_t nothing = 0;
    apus_ipc_send(events_writer, (const uint8_t *)&nothing, sizeof nothing, NULL, 0);
  }
  apus_yield();
}

/* A journal entry from svcman: keeps it, replacing the name's older one. */
static void record(const struct apus_registry_add_request *add, apus_handle_t endpoint) {
  int slot = -1;
  for (int i = 0; i < JOURNAL_MAX; i++) {
    if (journal[i].endpoint && journal[i].add.name_len == add->name_len && memcmp(journal[i].add.name, add->name, add->name_len) == 0) {
      slot = i;
      break;
    }
    if (slot < 0 && !journal[i].endpoint) slot = i;
  }
  if (slot < 0) { /* full: forget an entry whose server is gone, if any */
    for (int i = 0; i < JOURNAL_MAX && slot < 0; i++)
      if (apus_endpoint_status(journal[i].endpoint) & 1) slot = i;
    if (slot < 0) {
      apus_handle_close(endpoint);
      return;
    }
  }
  if (journal[slot].endpoint) apus_handle_close(journal[slot].endpoint);
  journal[slot].add = *add;
  journal[slot].endpoint = endpoint;
}

/* svcman's word that a name's server is gone (its add again, without an endpoint):
 * the journal lets the dead endpoint go now. */
static void forget(const struct apus_registry_add_request *add) {
  for (int i = 0; i < JOURNAL_MAX; i++) {
    if (journal[i].endpoint && journal[i].add.name_len == add->name_len && memcmp(journal[i].add.name, add->name, add->name_len) == 0) {
      apus_handle_close(journal[i].endpoint);
      journal[i].endpoint = 0;
    }
  }
}

/* svcman died: queues an add of every name whose server still reads its endpoint on
 * the registry endpoint, before the new svcman exists, so it serves them before any
 * request that comes after its death was seen. (Sent, not called: nobody is there to
 * answer yet. The endpoint queues 8 messages; names beyond that are lost, said so.) */
static void queue_journal(void) {
  unsigned queued = 0, gone = 0, lost = 0;
  for (int i = 0; i < JOURNAL_MAX; i++) {
    if (!journal[i].endpoint) continue;
    if (apus_endpoint_status(journal[i].endpoint) & 1) { /* its server is gone */
      apus_handle_close(journal[i].endpoint);
      journal[i].endpoint = 0;
      gone++;
      continue;
    }
    int64_t state = apus_endpoint_status(registry_endpoint);
    int64_t copy = apus_handle_duplicate(journal[i].endpoint, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
    if (apus_is_error(state) || ((state >> 8) & 0xff) >= 7 || apus_is_error(copy)) {
      if (!apus_is_error(copy)) apus_handle_close((apus_handle_t)copy);
      lost++;
      continue;
    }
    uint32_t handle = (uint32_t)copy;
    if (apus_is_error(apus_ipc_send(registry_endpoint, (const uint8_t *)&journal[i].add, sizeof journal[i].add, &handle, 1))) lost++;
    else queued++;
  }
  printf("SUPERVISOR: queued %u names for the new svcman (%u of servers that are gone dropped, %u lost)\n", queued, gone, lost);
}

/* Waits for the next events and handles them; returns their bits. */
static uint64_t handle_events(void) {
  rearm();
  if (clock_deadline && now() >= clock_deadline) { /* what the timer would have posted */
    clock_deadline = 0;
    return handle_bits(1ull << TIMER_KEY);
  }
  if (clock_deadline) poll_events();
  union {
    uint64_t bits;
    struct apus_registry_add_request add;
  } message = {0};
  uint32_t handles[1] = {0};
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_recv(events, (uint8_t *)&message, sizeof message, handles, 1, &info);
  if (apus_is_error(got)) return 0;
  if (!(info.flags & APUS_IPC_RECV_FLAGS_INTERRUPT)) {
    if (got == (int64_t)sizeof message.add && info.handle_count == 1 && message.add.name_len <= APUS_REGISTRY_NAME_MAX)
      record(&message.add, handles[0]);
    else if (got == (int64_t)sizeof message.add && info.handle_count == 0 && message.add.name_len <= APUS_REGISTRY_NAME_MAX)
      forget(&message.add);
    else if (info.handle_count == 1)
      apus_handle_close(handles[0]);
    return 0;
  }
  return handle_bits(message.bits);
}

/* Deaths, restarts that are due and starts that became ready. */
static uint64_t handle_bits(uint64_t bits) {
  if (bits & (1ull << TIMER_KEY)) armed_deadline = 0;
  for (int i = 0; i < service_count; i++)
    if (bits & (1ull << i)) died(&services[i]);
  uint64_t t = now();
  for (int i = 0; i < service_count; i++) {
    struct service *s = &services[i];
    if (s->restart_at && s->restart_at <= t && !s->refused) {
      s->restart_at = 0;
      if (s->given_up) printf("SUPERVISOR: trying %s again after giving up\n", s->label);
      s->given_up = 0;
      if (launch(s)) continue;
      if (launch_error == -(int64_t)APUS_ERR_NO_MEMORY && !no_timer) {
        /* No room (memory, the process table): the system's state, not the server's
         * fault. Counted as crashes, a program holding the process table while fsd
         * restarted made the supervisor give fsd up; it is tried again instead. */
        s->restart_at = t + backoff_max;
        printf("SUPERVISOR: no room to start %s: trying again in %lu ms\n", s->label, (unsigned long)(backoff_max / MS));
      } else {
        crashed(s);
      }
    }
  }
  for (int i = 0; i < service_count; i++) check_ready(&services[i]);
  return bits;
}

int supervisor_start(struct service *s) {
  if (!events || !launch(s)) return 0;
  if (no_timer) { /* nothing would wake a poll: wait for the ready message itself */
    uint8_t note[8];
    struct apus_ipc_recv_info received;
    if (!apus_is_error(apus_ipc_recv(s->ready_endpoint, note, sizeof note, NULL, 0, &received))) check_ready_now(s);
    return s->ready;
  }
  while (!s->ready && !s->given_up) handle_events();
  return s->ready;
}

int64_t supervisor_wait(apus_handle_t child, struct apus_process_status *status) {
  if (!events) return apus_process_wait(child, status);
  int64_t watched = apus_process_watch(child, events_writer, PROGRAM_KEY);
  if (apus_is_error(watched)) return watched;
  while (!(handle_events() & (1ull << PROGRAM_KEY))) {
  }
  return apus_process_wait(child, status);
}

void supervisor_stop_all(void) {
  for (int i = service_count - 1; i >= 0; i--) {
    struct service *s = &services[i];
    s->stopping = 1;
    s->restart_at = 0;
    if (s->process < 0 || s->registry) continue; /* svcman ends when init closes the registry */
    apus_process_kill((apus_handle_t)s->process);
    struct apus_process_status status;
    apus_process_wait((apus_handle_t)s->process, &status);
    apus_handle_close((apus_handle_t)s->process);
    if (s->ready_endpoint) apus_handle_close(s->ready_endpoint);
    s->process = -1;
    if (status.reason != APUS_EXIT_REASON_KILLED)
      printf("INIT: %s %s had ended: reason=%s code=%ld\n", s->device_index >= 0 ? "driver" : "service", s->path,
             supervisor_reason_name(status.reason), status.code);
  }
  for (int i = 0; i < JOURNAL_MAX; i++)
    if (journal[i].endpoint) apus_handle_close(journal[i].endpoint);
  if (events) {
    apus_endpoint_timer(events, TIMER_KEY, 0);
    apus_handle_close(events_writer);
    apus_handle_close(events);
  }
}
