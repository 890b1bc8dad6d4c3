/* M4's synchronous RPC: ipc_call and ipc_reply_recv between processes. The parent is
 * the client; `tests/rpc server` (handle 1: the endpoint, read) answers. Requests are
 * a one-byte op then data:
 *   'r' reply with the data reversed      'h' reply with the handles that came
 *   'b' reply with 4,096 bytes             'd' exit without replying
 *   'k' take the call and never reply
 *   'w' detach the call's reply capability (answered by a later 'a' with "late")
 *   'a' answer the detached call, then reply "ok"
 *   'x' detach and close it unanswered     'n' detach twice: the second is not_found
 *   'u' first try to reply from unmapped memory (a fault: the capability stays), then
 *       reply "ok"
 * Prints RPC: ... ok only after every answer was checked; the boot's MM lines check
 * that nothing leaked. */
#include "testlib.h"

static const char self[] = "tests/rpc";

static int64_t call(int64_t endpoint, const void *request, uint64_t length, const uint32_t *handles, uint64_t handle_count,
                    void *reply, uint64_t capacity, uint32_t *reply_handles, uint64_t reply_handle_capacity,
                    struct apus_ipc_recv_info *info) {
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)request, .len = length,
    .handles = (uint64_t)(uintptr_t)handles, .handle_count = handle_count,
    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = capacity,
    .reply_handles = (uint64_t)(uintptr_t)reply_handles, .reply_handle_cap = reply_handle_capacity,
  };
  return apus_ipc_call((apus_handle_t)endpoint, &args, info);
}

static int serve(void) {
  static char request[4096], reply[4096];
  uint32_t handles[4];
  struct apus_ipc_recv_info info;
  int64_t detached = 0;
  struct apus_ipc_reply_recv_args args = {
    .buf = (uint64_t)(uintptr_t)request, .cap = sizeof request,
    .handles = (uint64_t)(uintptr_t)handles, .handle_cap = 4,
  };
  for (;;) {
    int64_t got = apus_ipc_reply_recv(1, &args, &info);
    args.reply_len = 0;
    args.reply_handle_count = 0;
    if (got < 1) return got == ERR(APUS_ERR_PEER_CLOSED) ? 0 : 2;
    if (!(info.flags & APUS_IPC_RECV_FLAGS_CALL)) return 3;
    args.reply = (uint64_t)(uintptr_t)reply;
    switch (request[0]) {
    case 'r':
      for (int64_t i = 1; i < got; i++) reply[i - 1] = request[got - i];
      args.reply_len = (uint64_t)got - 1;
      break;
    case 'h':
      args.reply_handles = (uint64_t)(uintptr_t)handles;
      args.reply_handle_count = info.handle_count;
      break;
    case 'b':
      memset(reply, 'B', sizeof reply);
      args.reply_len = sizeof reply;
      break;
    case 'd':
      return 0;
    case 'w':
      detached = apus_ipc_reply_detach();
      if (detached <= 0) return 5;
      break;  /* no capability held: the next receive replies to nobody */
    case 'a':
      if (apus_ipc_reply((apus_handle_t)detached, (const uint8_t *)"late", 4, NULL, 0) != 0) return 6;
      if (apus_handle_close((apus_handle_t)detached) != ERR(APUS_ERR_BAD_HANDLE)) return 7;  /* answered: gone */
      detached = 0;
      memcpy(reply, "ok", 2);
      args.reply_len = 2;
      break;
    case 'x': {
      int64_t dropped = apus_ipc_reply_detach();
      if (dropped <= 0 || apus_handle_close((apus_handle_t)dropped) != 0) return 8;
      break;
    }
    case 'u': {
      struct apus_ipc_reply_recv_args bad = args;
      bad.reply = 0x20000000ull;  /* unmapped */
      bad.reply_len = 8;
      if (apus_ipc_reply_recv(1, &bad, &info) != ERR(APUS_ERR_FAULT)) return 10;
      memcpy(reply, "ok", 2);
      args.reply_len = 2;
      break;
    }
    case 'n': {
      int64_t first = apus_ipc_reply_detach();
      int64_t second = apus_ipc_reply_detach();
      reply[0] = second == ERR(APUS_ERR_NOT_FOUND) ? 1 : 0;
      if (apus_ipc_reply((apus_handle_t)first, (const uint8_t *)reply, 1, NULL, 0) != 0) return 9;
      break;
    }
    case 'k': {
      /* Hold the call: block forever on a fresh endpoint (until killed). */
      int64_t nothing = apus_endpoint_create();
      uint32_t unused;
      apus_ipc_recv((apus_handle_t)nothing, (uint8_t *)request, 1, &unused, 0, &info);
      return 4;
    }
    default:
      args.reply_len = 0;
    }
  }
}

/* A call the server answers later, through a detached reply handle. */
static volatile int late_done;
static int64_t late_endpoint;

static void call_and_wait_late(uint64_t unused) {
  (void)unused;
  char reply[8];
  struct apus_ipc_recv_info info;
  int64_t got = call(late_endpoint, "w", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info);
  late_done = got == 4 && memcmp(reply, "late", 4) == 0 ? 1 : 2;
  apus_thread_exit(0);
}

/* A call the server holds when it is killed: the caller gets peer_closed. */
static volatile int64_t held_result = 1;

static void call_held(uint64_t unused) {
  (void)unused;
  char reply[8];
  struct apus_ipc_recv_info info;
  held_result = call(late_endpoint, "k", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info);
  apus_thread_exit(0);
}

/* A client that calls and waits (the server holds the call): killed by the parent. */
static int stuck_client(void) {
  char reply[8];
  struct apus_ipc_recv_info info;
  call(1, "k", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info);
  return 2;  /* not reached */
}

static int64_t start(const char *name, int64_t endpoint, uint32_t rights) {
  struct apus_handle_grant grant = {(uint32_t)endpoint, rights};
  return start_case_with(self, name, &grant, 1);
}

int main(int argc, char **argv) {
  test_name = "RPC";
  if (argc > 1 && strcmp(argv[1], "server") == 0) return serve();
  if (argc > 1 && strcmp(argv[1], "stuck") == 0) return stuck_client();

  int64_t endpoint = apus_endpoint_create();
  int64_t server = start("server", endpoint, APUS_RIGHT_READ);
  expect_true("start the server", server > 0);
  static char request[4096], reply[4096];
  struct apus_ipc_recv_info info;

  /* 10,000 calls of 1 to 4,096 bytes, each answered exactly. */
  int wrong = 0;
  for (int round = 0; round < 10000; round++) {
    uint64_t length = 1 + (uint64_t)(round * 61) % 4095;
    request[0] = 'r';
    for (uint64_t i = 1; i < length; i++) request[i] = (char)(round ^ (int)i);
    int64_t got = call(endpoint, request, length, NULL, 0, reply, sizeof reply, NULL, 0, &info);
    if (got != (int64_t)length - 1) { wrong++; continue; }
    for (uint64_t i = 1; i < length; i++) if (reply[i - 1] != request[length - i]) { wrong++; break; }
  }
  expect_eq("10,000 calls answered exactly", wrong, 0);

  /* Handles both ways: an endpoint goes to the server and comes back. */
  int64_t carried = apus_endpoint_create();
  uint32_t out = (uint32_t)carried, back[4] = {0};
  expect_eq("call with a handle", call(endpoint, "h", 1, &out, 1, reply, sizeof reply, back, 4, &info), 0);
  expect_eq("one handle came back", info.handle_count, 1);
  expect_eq("it is a working endpoint", apus_ipc_send(back[0], (const uint8_t *)"x", 1, NULL, 0), 0);
  apus_handle_close(back[0]);
  expect_eq("the sent handle left our table", apus_handle_close(out), ERR(APUS_ERR_BAD_HANDLE));

  /* A reply larger than the buffer: buffer_too_small, and the next call still works. */
  expect_eq("reply too big", call(endpoint, "b", 1, NULL, 0, reply, 16, NULL, 0, &info), ERR(APUS_ERR_BUFFER_TOO_SMALL));
  expect_eq("then a normal call", call(endpoint, "r!", 2, NULL, 0, reply, sizeof reply, NULL, 0, &info), 1);

  /* Deferred replies: the server detaches a call, keeps serving, answers it later. */
  late_endpoint = endpoint;
  expect_true("a thread for the late call", start_thread(call_and_wait_late, 0) > 0);
  for (int i = 0; i < 100 && !late_done; i++) apus_yield();
  expect_eq("the detached call waits", late_done, 0);
  expect_eq("meanwhile another call is served", call(endpoint, "a", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info), 2);
  for (int i = 0; i < 100 && !late_done; i++) apus_yield();
  expect_eq("then the late answer arrives", late_done, 1);
  expect_eq("a detached capability closed unanswered", call(endpoint, "x", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info),
            ERR(APUS_ERR_PEER_CLOSED));
  expect_eq("detach twice", call(endpoint, "n", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info), 1);
  expect_eq("...the second finds nothing", reply[0], 1);
  expect_eq("ipc_reply_detach with nothing held", apus_ipc_reply_detach(), ERR(APUS_ERR_NOT_FOUND));

  /* A server's bad reply buffer is its own fault and it may answer again; a caller's
   * reply buffer it cannot write is the caller's fault. */
  expect_eq("the server retries a faulting reply", call(endpoint, "u", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info), 2);
  int64_t read_only = apus_vm_map(0, 4096, APUS_VM_PROT_READ, 0);
  expect_eq("a reply buffer the caller cannot write",
            call(endpoint, "rab", 3, NULL, 0, (void *)(uintptr_t)read_only, 16, NULL, 0, &info), ERR(APUS_ERR_FAULT));
  apus_vm_unmap((uint64_t)read_only, 4096);
  expect_eq("ipc_reply on an endpoint", apus_ipc_reply((apus_handle_t)endpoint, (const uint8_t *)"x", 1, NULL, 0),
            ERR(APUS_ERR_WRONG_HANDLE_KIND));

  /* Hostile arguments. */
  expect_eq("call with args in the kernel", apus_ipc_call((apus_handle_t)endpoint, (const struct apus_ipc_call_args *)0xffffffff80100000ull, &info),
            ERR(APUS_ERR_FAULT));
  expect_eq("request from unmapped memory", call(endpoint, (const void *)0x20000000ull, 8, NULL, 0, reply, 8, NULL, 0, &info), ERR(APUS_ERR_FAULT));
  expect_eq("request of 4,097 bytes", call(endpoint, request, 4097, NULL, 0, reply, 8, NULL, 0, &info), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("reply buffer in the kernel", call(endpoint, "r", 1, NULL, 0, (void *)0xffffffff80100000ull, 8, NULL, 0, &info), ERR(APUS_ERR_FAULT));
  expect_eq("reply_recv with null args", apus_ipc_reply_recv((apus_handle_t)endpoint, NULL, &info), ERR(APUS_ERR_FAULT));
  expect_eq("call on a closed handle", call(0x4242, "r", 1, NULL, 0, reply, 8, NULL, 0, &info), ERR(APUS_ERR_BAD_HANDLE));

  /* A caller killed while the server holds its call: nothing stays blocked. */
  int64_t client = start("stuck", endpoint, APUS_RIGHT_WRITE);
  for (int i = 0; i < 100; i++) apus_yield();
  expect_eq("kill the waiting caller", apus_process_kill((apus_handle_t)client), 0);
  expect_eq("...it ends", end_status(client), 100 + APUS_EXIT_REASON_KILLED);
  expect_eq("kill the server holding the call", apus_process_kill((apus_handle_t)server), 0);
  expect_eq("...it ends", end_status(server), 100 + APUS_EXIT_REASON_KILLED);

  /* A server killed while it holds a call: the caller gets peer_closed. */
  server = start("server", endpoint, APUS_RIGHT_READ);
  expect_true("a thread whose call the server holds", start_thread(call_held, 0) > 0);
  for (int i = 0; i < 100 && held_result == 1; i++) apus_yield();
  expect_eq("kill the server mid-call", apus_process_kill((apus_handle_t)server), 0);
  expect_eq("...it ends", end_status(server), 100 + APUS_EXIT_REASON_KILLED);
  for (int i = 0; i < 100 && held_result == 1; i++) apus_yield();
  expect_eq("the caller got peer_closed", held_result, ERR(APUS_ERR_PEER_CLOSED));

  /* A server that dies holding a call: the caller gets peer_closed. */
  server = start("server", endpoint, APUS_RIGHT_READ);
  expect_eq("the server dies mid-call", call(endpoint, "d", 1, NULL, 0, reply, sizeof reply, NULL, 0, &info), ERR(APUS_ERR_PEER_CLOSED));
  expect_eq("...and ended by itself", end_status(server), 0);
  apus_handle_close((apus_handle_t)endpoint);
  return finish("calls and replies");
}
