/* init's supervisor (issue 16): the servers init starts are services it keeps running.
 * Each death is posted on one event endpoint (process_watch), as are the restart
 * timer and the end of the program init waits for, so one receive sees them all. A
 * dead service is started again after a bounded backoff (10 ms doubling to 1.28 s),
 * with the same arguments and handles (a driver gets its device opened afresh); one
 * that dies `limit` times within `window` (a sliding window: older crashes no longer
 * count) is given up, with a line saying so, and tried again a window later (twice
 * that after a second give-up in a row, and so on up to 16 windows): a give-up decays.
 * One that exits by itself with code 2 refused to start (fsd when its disk does not
 * mount): it is reported and not restarted. A start
 * is ready when the server sends its one message on the ready endpoint it was given;
 * starts never block init: readiness is polled on the timer, so a server that waits
 * for another (fsd for block0) can be started while that one is being restarted.
 * When the kernel refuses to arm init's timer, the supervisor says so and watches the
 * clock itself (it polls its events and yields) until the timer can be armed again.
 *
 * The registry's journal: svcman sends every add it accepts (the request and a
 * duplicate of the server's endpoint) to the event endpoint; the supervisor keeps the
 * latest per name, and when svcman dies it queues them all (those whose server still
 * reads its endpoint) as add requests on the registry endpoint for the new svcman to
 * serve first, so the names survive svcman. */
#ifndef APUS_INIT_SUPERVISOR_H
#define APUS_INIT_SUPERVISOR_H
#include <stddef.h>
#include <stdint.h>
#include <apus/syscall.h>

#include <apus/registry.h>

/* The most crashes a limit can count (init=restart-limit= is capped to it). */
#define SUPERVISOR_CRASHES_KEPT 16

struct service {
  char label[32];  /* for log lines: "blkdevd", "fsd", ... */
  char path[48];
  char args[192];
  size_t args_len;
  struct apus_handle_grant grants[2]; /* handle 1 (and 2 unless a device is granted) */
  uint64_t grant_count;
  int device_index; /* the PCI function granted as handle 2 at every start, or -1 */
  int64_t process;  /* the running instance, or -1 */
  apus_handle_t ready_endpoint; /* while starting: the read end it reports ready on */
  int ready, given_up, refused, stopping;
  int registry; /* it is the registry (svcman): the journal is added back when it restarts */
  unsigned starts;
  uint64_t crash_times[SUPERVISOR_CRASHES_KEPT]; /* the latest crashes (ns), a ring */
  unsigned crash_next;
  unsigned give_ups; /* in a row: the pause before trying again doubles with each */
  uint64_t restart_at;
  apus_exit_reason_t last_reason;
};

void supervisor_setup(apus_handle_t resource, apus_handle_t registry);
/* The kernel has no tick (make bench): timers never fire, so a start waits on its
 * ready message and a dead service is reported but not restarted. */
void supervisor_without_timer(void);
/* A write handle to the event endpoint, for svcman's journal (the caller grants it). */
apus_handle_t supervisor_journal(void);
/* Crashes within window_ms that make it give up a service (default 5 in 10,000; at
 * most SUPERVISOR_CRASHES_KEPT), and the longest backoff (default 1,280 ms). */
void supervisor_limits(unsigned limit, uint64_t window_ms, uint64_t backoff_max_ms);
struct service *supervisor_add(const char *label, const char *path, const char *args, size_t args_len,
                               const struct apus_handle_grant *grants, uint64_t grant_count, int device_index);
/* Starts `s` and handles events until it is ready (1) or given up (0). */
int supervisor_start(struct service *s);
/* Handles events until `child` (a program) has ended; *status says how. */
int64_t supervisor_wait(apus_handle_t child, struct apus_process_status *status);
/* Stops every service, last added first, and reports those that had died unseen;
 * the registry's is left to end when init closes the registry. */
void supervisor_stop_all(void);
const char *supervisor_reason_name(apus_exit_reason_t reason);
#endif
