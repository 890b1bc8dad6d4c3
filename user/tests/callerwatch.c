/* endpoint_watch_caller and ipc_discard (tests/ipc/test_caller_watch.py), from the
 * server's side, with children as clients:
 * - a server watches the caller it holds; the caller's end arrives as one sender_ended
 *   notice with its id (watching twice adds nothing), before queued messages;
 * - a killed caller is noticed too; a notice outlives no endpoint (closing the server's
 *   endpoint with a watch pending leaks nothing);
 * - one process is watched by at most endpoint_watchers_max endpoints: the next is
 *   limit_reached, and every one of the first ones hears of its end;
 * - watching without holding a call is not_found, without read access_denied;
 * - a message whose handles do not fit the server's table is refused, ipc_discard drops
 *   it (its caller gets peer_closed) and the next message is served. */
#include "testlib.h"

#define SERVER ((apus_handle_t)1) /* a child's handle 1: the server's endpoint (write) */

static int64_t call(apus_handle_t endpoint, const char *text, apus_handle_t *sent, uint64_t sent_count,
                    apus_handle_t *received, uint64_t room, struct apus_ipc_recv_info *info) {
  char reply[64];
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)text, .len = strlen(text), .handles = (uint64_t)(uintptr_t)sent,
    .handle_count = sent_count, .reply = (uint64_t)(uintptr_t)reply, .reply_cap = sizeof reply,
    .reply_handles = (uint64_t)(uintptr_t)received, .reply_handle_cap = room,
  };
  return apus_ipc_call(endpoint, &args, info);
}

/* Children. "once": one call, then exit. "hang": one call, then wait to be killed.
 * "many": calls the server for endpoints until it has more than the watch limit, then
 * calls each of them once. "handle": sends a call carrying a handle; exits 0 if it was
 * refused with peer_closed. */
static int child(const char *role) {
  struct apus_ipc_recv_info info;
  if (strcmp(role, "once") == 0) return call(SERVER, "once", NULL, 0, NULL, 0, &info) == 4 ? 0 : 1;
  if (strcmp(role, "hang") == 0) {
    call(SERVER, "hang", NULL, 0, NULL, 0, &info);
    for (;;) apus_yield();
  }
  if (strcmp(role, "many") == 0) {
    apus_handle_t endpoints[APUS_ENDPOINT_WATCHERS_MAX + 4];
    uint32_t have = 0;
    while (have < APUS_ENDPOINT_WATCHERS_MAX + 1) {
      if (call(SERVER, "give", NULL, 0, endpoints + have, 4, &info) < 0) return 2;
      have += info.handle_count;
    }
    for (uint32_t i = 0; i < have; i++)
      if (call(endpoints[i], "hi", NULL, 0, NULL, 0, &info) != 2) return 3;
    return 0;
  }
  if (strcmp(role, "handle") == 0) {
    apus_handle_t extra = (apus_handle_t)apus_endpoint_create();
    int64_t got = call(SERVER, "handle", &extra, 1, NULL, 0, &info);
    return got == ERR(APUS_ERR_PEER_CLOSED) ? 0 : 1;
  }
  return 9;
}

/* Receives the next message on `endpoint` (room for 4 handles) into `buf`. */
static int64_t receive(apus_handle_t endpoint, char *buf, uint64_t cap, apus_handle_t *handles,
                       struct apus_ipc_recv_info *info) {
  apus_handle_t room[4];
  return apus_ipc_recv(endpoint, (uint8_t *)buf, cap, handles ? handles : room, 4, info);
}

/* Answers the call this thread holds with `count` handles and receives the next message. */
static int64_t reply_and_receive(apus_handle_t endpoint, const char *text, apus_handle_t *handles, uint64_t count,
                                 char *buf, uint64_t cap, struct apus_ipc_recv_info *info) {
  apus_handle_t room[4];
  struct apus_ipc_reply_recv_args args = {
    .reply = (uint64_t)(uintptr_t)text, .reply_len = strlen(text), .reply_handles = (uint64_t)(uintptr_t)handles,
    .reply_handle_count = count, .buf = (uint64_t)(uintptr_t)buf, .cap = cap, .handles = (uint64_t)(uintptr_t)room,
    .handle_cap = 4,
  };
  return apus_ipc_reply_recv(endpoint, &args, info);
}

static int is_notice(const struct apus_ipc_recv_info *info, uint64_t sender) {
  return info->flags == APUS_IPC_RECV_FLAGS_SENDER_ENDED && info->sender == sender && info->handle_count == 0;
}

static int64_t spawn(const char *role, apus_handle_t server) {
  struct apus_handle_grant grant = {server, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER};
  return start_case_with("tests/callerwatch", role, &grant, 1);
}

int main(int argc, char **argv) {
  if (argc > 1) return child(argv[1]);
  test_name = "CALLERWATCH";
  struct apus_system_info before, after;
  apus_system_info(&before);
  apus_handle_t server = (apus_handle_t)apus_endpoint_create();
  char buf[64];
  struct apus_ipc_recv_info info;

  expect_eq("no call held", apus_endpoint_watch_caller(server), ERR(APUS_ERR_NOT_FOUND));

  /* One client: watched twice, noticed once, with its id. */
  int64_t client = spawn("once", server);
  expect_eq("its call arrives", receive(server, buf, sizeof buf, NULL, &info), 4);
  uint64_t id = info.sender;
  expect_true("as a call", (info.flags & APUS_IPC_RECV_FLAGS_CALL) != 0);
  expect_eq("watch it: its id", apus_endpoint_watch_caller(server), (int64_t)id);
  expect_eq("again: nothing more", apus_endpoint_watch_caller(server), (int64_t)id);
  apus_handle_t reader_only = (apus_handle_t)apus_handle_duplicate(server, APUS_RIGHT_WRITE);
  expect_eq("an endpoint without read", apus_endpoint_watch_caller(reader_only), ERR(APUS_ERR_ACCESS_DENIED));
  expect_eq("answered, then its end", reply_and_receive(server, "once", NULL, 0, buf, sizeof buf, &info), 0);
  expect_true("a sender_ended notice with its id", is_notice(&info, id));
  expect_eq("the client was served", end_status(client), 0);
  /* Only one notice: a message sent now is what comes next. */
  expect_eq("send a marker", apus_ipc_send(reader_only, (const uint8_t *)"mark", 4, NULL, 0), 0);
  expect_eq("the marker comes next", receive(server, buf, sizeof buf, NULL, &info), 4);
  expect_true("not another notice", info.flags == 0);
  expect_eq("no call is held after a notice", apus_endpoint_watch_caller(server), ERR(APUS_ERR_NOT_FOUND));

  /* A killed client; notices come before queued messages. */
  client = spawn("hang", server);
  expect_eq("its call", receive(server, buf, sizeof buf, NULL, &info), 4);
  id = info.sender;
  expect_eq("watched", apus_endpoint_watch_caller(server), (int64_t)id);
  expect_eq("killed before the answer", apus_process_kill((apus_handle_t)client), 0);
  expect_eq("it ended", end_status(client), 100 + APUS_EXIT_REASON_KILLED);
  expect_eq("a message queued after its end", apus_ipc_send(reader_only, (const uint8_t *)"late", 4, NULL, 0), 0);
  expect_eq("the notice first", receive(server, buf, sizeof buf, NULL, &info), 0);
  expect_true("for the killed client", is_notice(&info, id));
  expect_eq("then the message", receive(server, buf, sizeof buf, NULL, &info), 4);

  /* The limit: endpoint_watchers_max endpoints watch one process; all hear of its end. */
  apus_handle_t watchers[APUS_ENDPOINT_WATCHERS_MAX + 4];
  uint32_t made = 0;
  client = spawn("many", server);
  while (made < APUS_ENDPOINT_WATCHERS_MAX + 1) {
    expect_eq("a request for endpoints", receive(server, buf, sizeof buf, NULL, &info), 4);
    apus_handle_t give[4];
    for (int i = 0; i < 4; i++) {
      watchers[made] = (apus_handle_t)apus_endpoint_create();
      give[i] = (apus_handle_t)apus_handle_duplicate(watchers[made++], APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
    }
    static const char ok[] = "ok";
    /* Answered through a detached capability: a reply_recv would wait for the next. */
    int64_t detached = apus_ipc_reply_detach();
    expect_true("detach the capability", !apus_is_error(detached));
    expect_eq("answer with four endpoints", apus_ipc_reply((apus_handle_t)detached, (const uint8_t *)ok, 2, give, 4), 0);
  }
  for (uint32_t i = 0; i < made; i++) {
    expect_eq("a call on each", receive(watchers[i], buf, sizeof buf, NULL, &info), 2);
    int64_t watched = apus_endpoint_watch_caller(watchers[i]);
    if (i < APUS_ENDPOINT_WATCHERS_MAX) expect_true("watched", watched > 0);
    else expect_eq("past the limit", watched, ERR(APUS_ERR_LIMIT_REACHED));
    int64_t detached = apus_ipc_reply_detach();
    apus_ipc_reply((apus_handle_t)detached, (const uint8_t *)"hi", 2, NULL, 0);
  }
  id = info.sender;
  expect_eq("the client got every answer", end_status(client), 0);
  for (uint32_t i = 0; i < APUS_ENDPOINT_WATCHERS_MAX; i++) {
    expect_eq("each watcher hears", receive(watchers[i], buf, sizeof buf, NULL, &info), 0);
    expect_true("of that client", is_notice(&info, id));
  }
  for (uint32_t i = 0; i < made; i++) apus_handle_close(watchers[i]);

  /* A pending watch whose endpoint goes first: nothing is left behind. */
  client = spawn("hang", server);
  apus_handle_t doomed = (apus_handle_t)apus_endpoint_create();
  apus_handle_t doomed_writer = (apus_handle_t)apus_handle_duplicate(doomed, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
  expect_eq("its call", receive(server, buf, sizeof buf, NULL, &info), 4);
  expect_true("watched from another endpoint", apus_endpoint_watch_caller(doomed) > 0);
  apus_handle_close(doomed);
  apus_handle_close(doomed_writer);
  apus_process_kill((apus_handle_t)client);
  expect_eq("killed", end_status(client), 100 + APUS_EXIT_REASON_KILLED);
  expect_eq("its capability is dropped with a receive", apus_ipc_send(reader_only, (const uint8_t *)"m", 1, NULL, 0), 0);
  expect_eq("the next message", receive(server, buf, sizeof buf, NULL, &info), 1);

  /* ipc_discard: a call whose handle cannot be installed here. */
  expect_eq("nothing to discard", apus_ipc_discard(server), ERR(APUS_ERR_NOT_FOUND));
  client = spawn("handle", server);
  apus_handle_t fillers[256];
  int filled = 0;
  for (;;) {
    int64_t copy = apus_handle_duplicate(server, APUS_RIGHT_WRITE);
    if (apus_is_error(copy)) break;
    fillers[filled++] = (apus_handle_t)copy;
  }
  expect_true("the handle table is full", filled > 0);
  apus_handle_t got_handles[4];
  int64_t refused = receive(server, buf, sizeof buf, got_handles, &info);
  expect_eq("a call whose handle does not fit is refused", refused, ERR(APUS_ERR_BUFFER_TOO_SMALL));
  expect_eq("it carries one handle", info.handle_count, 1);
  expect_eq("discard it", apus_ipc_discard(server), 0);
  expect_eq("its caller got peer_closed", end_status(client), 0);
  for (int i = 0; i < filled; i++) apus_handle_close(fillers[i]);
  expect_eq("the server goes on: the next message", apus_ipc_send(reader_only, (const uint8_t *)"next", 4, NULL, 0), 0);
  expect_eq("is received", receive(server, buf, sizeof buf, got_handles, &info), 4);

  apus_handle_close(reader_only);
  apus_handle_close(server);
  apus_system_info(&after);
  expect_eq("no kernel object left behind", (int64_t)after.objects, (int64_t)before.objects);
  /* The heap is checked at the halt (expect_nothing_leaked): filling the handle table
   * grew it, and a table gives its room back only with its process. */
  return finish("endpoint_watch_caller");
}
