/* netd frees what a dead client kept and limits what one client can take
 * (tests/net/test_net_limits.py), with children as the clients. A child gets netd's
 * endpoint as its handle 1 (it attaches no buffer: bind and ping need none) and a
 * control endpoint as handle 2, on which it reports with a call the parent answers
 * when the child may exit (or never: the parent kills it).
 * The children and this process are one job, so one client to netd (limits count
 * by job: kernel/object/Jobs.swift; tests/attack shows another job served while one
 * job's children hold its share).
 * - sockets: the first child binds until busy and gets sockets_per_client; its
 *   siblings and this process get busy at once; when the children ended (exited or
 *   killed), their sockets are free again;
 * - pings: a child's third waiting ping is busy (pings_per_client), a sibling's are
 *   all busy, and so is this process's; killed, their slots are free at once (a
 *   ping works), though each waited up to 60 s;
 * - a ping timeout over max_ping_timeout_ms is bad_request.
 *   tests/netlimits            the parent
 *   tests/netlimits sockets    a child that binds until busy, reports how many
 *   tests/netlimits pings=A    a child with 3 pings to address A at once, reports how
 *                              many were busy */
#include "testlib.h"
#include <net_client.h>

#define NET ((apus_handle_t)1)
#define CONTROL ((apus_handle_t)2)
#define GATEWAY 0x0a000202u
/* Addresses that should never answer a ping (the documentation networks, routed via
 * the gateway); the first that does not answer within 300 ms is the black hole the
 * children ping (QEMU's user network forwards pings to the host's network, where one
 * of them may be in use). */
static const uint32_t candidates[] = {0xcb007101u, 0xc6336401u, 0xc0000201u}; /* 203.0.113.1, 198.51.100.1, 192.0.2.1 */
static uint32_t black_hole;

/* --- children --- */

/* Tells the parent `count` and waits for its answer (it may kill us instead). */
static int report(uint64_t count) {
  uint8_t reply[8];
  struct apus_ipc_recv_info info;
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)&count, .len = sizeof count, .reply = (uint64_t)(uintptr_t)reply, .reply_cap = sizeof reply,
  };
  return apus_is_error(apus_ipc_call(CONTROL, &args, &info)) ? 1 : 0;
}

static int child_sockets(void) {
  struct net_client net = {NET, 1, NULL};
  uint64_t bound = 0;
  uint32_t socket;
  int64_t status;
  while ((status = net_bind(&net, 0, &socket, NULL)) == APUS_NET_STATUS_OK) bound++;
  return status == APUS_NET_STATUS_BUSY ? report(bound) : 2;
}

static volatile int pings_busy, pings_other;

static void ping_thread(uint64_t sequence) {
  struct net_client net = {NET, 1, NULL};
  struct apus_net_ping_reply reply;
  int64_t status = net_ping(&net, black_hole, 8, (uint16_t)sequence, APUS_NET_MAX_PING_TIMEOUT_MS, &reply);
  __atomic_add_fetch(status == APUS_NET_STATUS_BUSY ? &pings_busy : &pings_other, 1, __ATOMIC_SEQ_CST);
}

/* Three pings at once: pings_per_client wait (a minute), the rest are busy at once.
 * Reports how many were busy once one was, or after 5 s (none was: no limit). */
static int child_pings(void) {
  for (uint64_t i = 0; i < APUS_NET_PINGS_PER_CLIENT + 1; i++)
    if (apus_is_error(start_thread(ping_thread, 100 + i))) return 3;
  uint64_t give_up = (uint64_t)apus_time_now() + 5000000000ull;
  while (pings_busy == 0 && (uint64_t)apus_time_now() < give_up) apus_yield();
  return report((uint64_t)pings_busy + 100 * (uint64_t)pings_other);
}

/* --- the parent --- */

struct child {
  int64_t process;
  apus_handle_t answer; /* its report's reply capability */
  uint64_t count;       /* what it reported */
};

/* Starts a child of `role` and takes its report. */
static struct child start(const char *role, apus_handle_t net, apus_handle_t control) {
  struct child c = {0, 0, ~0ull};
  struct apus_handle_grant grants[2] = {
    {net, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
    {control, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
  };
  c.process = start_case_with("tests/netlimits", role, grants, 2);
  if (apus_is_error(c.process)) {
    expect_true("start a child", 0);
    return c;
  }
  struct apus_ipc_recv_info info;
  uint64_t count = 0;
  int64_t got = apus_ipc_recv(control, (uint8_t *)&count, sizeof count, NULL, 0, &info);
  expect_eq("the child's report", got, sizeof count);
  c.count = got == sizeof count ? count : ~0ull;
  int64_t detached = apus_ipc_reply_detach();
  expect_true("keep its reply capability", !apus_is_error(detached));
  c.answer = apus_is_error(detached) ? 0 : (apus_handle_t)detached;
  return c;
}

/* Lets the child exit (it must exit 0). */
static void let_exit(struct child *c) {
  expect_eq("answer the child", apus_ipc_reply(c->answer, (const uint8_t *)"go", 2, NULL, 0), 0);
  expect_eq("the child exited", end_status(c->process), 0);
}

static void kill_child(struct child *c) {
  expect_eq("kill the child", apus_process_kill((apus_handle_t)c->process), 0);
  expect_eq("it was killed", end_status(c->process), 100 + APUS_EXIT_REASON_KILLED);
  apus_handle_close(c->answer);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "sockets") == 0) return child_sockets();
  if (argc > 1 && strncmp(argv[1], "pings=", 6) == 0) {
    black_hole = (uint32_t)number_after(argv[1] + 6);
    return child_pings();
  }
  test_name = "NETLIMITS";
  struct net_client net;
  expect_eq("connect", net_connect(&net, 1), 0);
  apus_handle_t control = (apus_handle_t)apus_endpoint_create();
  uint32_t sockets[APUS_NET_SOCKETS_PER_CLIENT + 1];
  uint32_t extra;
  struct apus_net_ping_reply ping;

  /* Sockets: the children and this process are one job (kernel/object/Jobs.swift),
   * one client to netd: the first child takes the job's sockets_per_client, the
   * others and this process get busy; what they held is free at their end. */
  struct child holders[3];
  for (int i = 0; i < 3; i++) {
    holders[i] = start("sockets", net.endpoint, control);
    expect_eq(i == 0 ? "a child binds sockets_per_client, then busy" : "its siblings share that: they bind none",
              (int64_t)holders[i].count, i == 0 ? APUS_NET_SOCKETS_PER_CLIENT : 0);
  }
  expect_eq("nor does their parent", net_bind(&net, 0, &extra, NULL), APUS_NET_STATUS_BUSY);
  /* The holders end: one exits, two are killed. Their notices come before the next
   * request, so the job's sockets are free again. */
  kill_child(&holders[0]);
  let_exit(&holders[1]);
  kill_child(&holders[2]);
  holders[0] = start("sockets", net.endpoint, control);
  expect_eq("a killed client's sockets are free again", (int64_t)holders[0].count, APUS_NET_SOCKETS_PER_CLIENT);
  let_exit(&holders[0]);
  for (uint32_t i = 0; i < APUS_NET_SOCKETS_PER_CLIENT; i++)
    expect_eq("and this process binds the share", net_bind(&net, 0, &sockets[i], NULL), 0);
  expect_eq("past sockets_per_client", net_bind(&net, 0, &extra, NULL), APUS_NET_STATUS_BUSY);
  for (uint32_t i = 0; i < APUS_NET_SOCKETS_PER_CLIENT; i++) expect_eq("close", net_close(&net, sockets[i]), 0);

  /* Pings: the job gets pings_per_client waiting (its next is busy), whichever of
   * its processes asks; killed, the slots are free at once. */
  expect_eq("a timeout past max_ping_timeout_ms", net_ping(&net, GATEWAY, 8, 1, APUS_NET_MAX_PING_TIMEOUT_MS + 1, &ping),
            APUS_NET_STATUS_BAD_REQUEST);
  for (uint32_t i = 0; i < sizeof candidates / sizeof candidates[0] && !black_hole; i++)
    if (net_ping(&net, candidates[i], 8, 1, 300, &ping) == APUS_NET_STATUS_TIMED_OUT) black_hole = candidates[i];
  expect_true("an address that does not answer pings", black_hole != 0);
  char role[32];
  snprintf(role, sizeof role, "pings=%u", black_hole);
  struct child pingers[2];
  pingers[0] = start(role, net.endpoint, control);
  expect_eq("a child's pings past pings_per_client are busy, the others wait", (int64_t)pingers[0].count, 1);
  pingers[1] = start(role, net.endpoint, control);
  expect_true("its sibling's are busy (none waits)", pingers[1].count >= 1 && pingers[1].count <= APUS_NET_PINGS_PER_CLIENT + 1);
  expect_eq("and so is their parent's", net_ping(&net, GATEWAY, 8, 3, 5000, &ping), APUS_NET_STATUS_BUSY);
  for (int i = 0; i < 2; i++) kill_child(&pingers[i]);
  expect_eq("the killed clients' slots are free at once", net_ping(&net, GATEWAY, 8, 4, 5000, &ping), 0);

  apus_handle_close(control);
  return finish("net limits");
}
