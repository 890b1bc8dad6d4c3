/* A reply's handles leave the server on every path (tests/ipc/test_reply_handles.py).
 * The parent is an ordinary client; `tests/replyhandles server` (handle 1: the
 * endpoint, read) answers. Requests are an op byte and a handle count n (1-4):
 *   'h' n  reply (ipc_reply_recv) with n fresh shm handles
 *   'd' n  detach the call and answer it (ipc_reply) with n fresh shm handles
 *   'w'    detach the call and keep it (a caller the parent then kills)
 *   'W' n  answer the kept call with n fresh shm handles, then reply
 *   'c'    reply with the server's findings: handles it sent that stayed in its own
 *          table, shm_create failures, and whether a call is kept
 *   'r'    reply "ok"
 * A handle a reply carries leaves the server's table whether it reached the caller or
 * not: the server looks each one up after the reply and counts the ones still there.
 * Before the fix a reply the caller could not take (reply_handle_cap 0, or the caller
 * gone) left them there: 128 such replies filled the server's table; and a caller
 * whose reply_handles buffer was read-only kept the installed handles unseen. */
#include "testlib.h"

static const char self[] = "tests/replyhandles";

struct findings {
  uint32_t stranded;
  uint32_t create_failures;
  uint32_t kept;
};

static int64_t call(int64_t endpoint, const char *request, uint64_t length, void *reply, uint64_t capacity,
                    uint32_t *reply_handles, uint64_t reply_handle_capacity, struct apus_ipc_recv_info *info) {
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)request, .len = length,
    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = capacity,
    .reply_handles = (uint64_t)(uintptr_t)reply_handles, .reply_handle_cap = reply_handle_capacity,
  };
  return apus_ipc_call((apus_handle_t)endpoint, &args, info);
}

/* ---- the server ---- */

static struct findings found;
static uint32_t sent[4];
static uint32_t sent_count;

/* n fresh shm handles into `sent`; false (counted) when the table or memory is full. */
static int make_handles(uint32_t n) {
  sent_count = 0;
  for (uint32_t i = 0; i < n; i++) {
    int64_t shm = apus_shm_create(4096);
    if (apus_is_error(shm)) {
      found.create_failures++;
      for (uint32_t j = 0; j < sent_count; j++) apus_handle_close(sent[j]);
      sent_count = 0;
      return 0;
    }
    sent[sent_count++] = (uint32_t)shm;
  }
  return 1;
}

/* The handles of the last reply: each must have left this table. */
static void check_sent(void) {
  struct apus_handle_info info;
  for (uint32_t i = 0; i < sent_count; i++) {
    if (apus_handle_info(sent[i], &info) != ERR(APUS_ERR_BAD_HANDLE)) {
      found.stranded++;
      apus_handle_close(sent[i]);  /* so one stranded reply does not hide the next */
    }
  }
  sent_count = 0;
}

static int serve(void) {
  static char request[64], reply[64];
  uint32_t handles[4];
  struct apus_ipc_recv_info info;
  int64_t kept = 0;
  struct apus_ipc_reply_recv_args args = {
    .buf = (uint64_t)(uintptr_t)request, .cap = sizeof request,
    .handles = (uint64_t)(uintptr_t)handles, .handle_cap = 4,
    .reply = (uint64_t)(uintptr_t)reply,
  };
  for (;;) {
    int64_t got = apus_ipc_reply_recv(1, &args, &info);
    check_sent();  /* the reply just sent (ipc_reply_recv's) */
    args.reply_len = 0;
    args.reply_handles = 0;
    args.reply_handle_count = 0;
    if (got == ERR(APUS_ERR_PEER_CLOSED)) return 0;
    if (got < 1 || !(info.flags & APUS_IPC_RECV_FLAGS_CALL)) return 2;
    uint32_t n = got > 1 && request[1] >= 1 && request[1] <= 4 ? (uint32_t)request[1] : 1;
    switch (request[0]) {
    case 'h':
      if (make_handles(n)) {
        args.reply_handles = (uint64_t)(uintptr_t)sent;
        args.reply_handle_count = sent_count;
      } else {
        reply[0] = 'F';
        args.reply_len = 1;
      }
      break;
    case 'd': {
      int64_t call_handle = apus_ipc_reply_detach();
      if (apus_is_error(call_handle)) return 3;
      if (!make_handles(n)) {
        apus_ipc_reply((apus_handle_t)call_handle, (const uint8_t *)"F", 1, NULL, 0);
        break;
      }
      if (apus_ipc_reply((apus_handle_t)call_handle, NULL, 0, sent, sent_count) != 0) return 4;
      check_sent();
      break;  /* answered: the next receive replies to nobody */
    }
    case 'w':
      if (kept) return 5;
      kept = apus_ipc_reply_detach();
      if (apus_is_error(kept)) return 6;
      break;
    case 'W':
      if (!kept) return 7;
      if (make_handles(n)) {
        /* The caller is gone: not an error, the reply (and its handles) is dropped. */
        if (apus_ipc_reply((apus_handle_t)kept, NULL, 0, sent, sent_count) != 0) return 8;
        check_sent();
      }
      kept = 0;
      memcpy(reply, "ok", 2);
      args.reply_len = 2;
      break;
    case 'c':
      found.kept = kept != 0;
      memcpy(reply, &found, sizeof found);
      args.reply_len = sizeof found;
      break;
    case 'r':
      memcpy(reply, "ok", 2);
      args.reply_len = 2;
      break;
    default:
      return 9;
    }
  }
}

/* ---- the callers the parent kills ---- */

/* Calls 'w' (the server keeps the call) and waits: killed by the parent. */
static int kept_caller(void) {
  char reply[8];
  struct apus_ipc_recv_info info;
  call(1, "w", 1, reply, sizeof reply, NULL, 0, &info);
  return 2;  /* not reached: killed */
}

/* Calls for 4 handles again and again, closing what comes: killed at a random point,
 * often while a reply's handles are being installed into its table. */
static int hammer(void) {
  char reply[8];
  uint32_t handles[4];
  struct apus_ipc_recv_info info;
  for (;;) {
    int64_t got = call(1, "h\4", 2, reply, sizeof reply, handles, 4, &info);
    if (got == 0) for (uint32_t i = 0; i < info.handle_count && i < 4; i++) apus_handle_close(handles[i]);
  }
}

/* ---- the client ---- */

static struct apus_system_info snapshot(void) {
  struct apus_system_info info;
  memset(&info, 0, sizeof info);
  apus_system_info(&info);
  return info;
}

static struct findings ask(int64_t endpoint) {
  struct findings answer;
  memset(&answer, 0xff, sizeof answer);
  struct apus_ipc_recv_info info;
  if (call(endpoint, "c", 1, &answer, sizeof answer, NULL, 0, &info) != (int64_t)sizeof answer) memset(&answer, 0xff, sizeof answer);
  return answer;
}

static int64_t start(const char *name, int64_t endpoint, uint32_t rights) {
  struct apus_handle_grant grant = {(uint32_t)endpoint, rights};
  return start_case_with(self, name, &grant, 1);
}

/* Until the kernel objects are back to `objects` (the reaper frees a killed process's
 * last pieces after its handle is gone); true when they are. */
static int objects_back_to(uint64_t objects) {
  for (int round = 0; round < 2000; round++) {
    if (snapshot().objects == objects) return 1;
    apus_yield();
  }
  return 0;
}

int main(int argc, char **argv) {
  test_name = "REPLYH";
  if (argc > 1 && strcmp(argv[1], "server") == 0) return serve();
  if (argc > 1 && strcmp(argv[1], "kept") == 0) return kept_caller();
  if (argc > 1 && strcmp(argv[1], "hammer") == 0) return hammer();

  int64_t endpoint = apus_endpoint_create();
  int64_t server = start("server", endpoint, APUS_RIGHT_READ);
  expect_true("start the server", server > 0);
  char reply[64];
  uint32_t handles[4];
  struct apus_ipc_recv_info info;

  /* 200 replies with a handle to a caller that takes none, through each reply path:
   * buffer_too_small with the count, and the handles gone from the server. */
  int wrong = 0;
  for (int round = 0; round < 200; round++) {
    int64_t got = call(endpoint, "h\1", 2, reply, sizeof reply, NULL, 0, &info);
    if (got != ERR(APUS_ERR_BUFFER_TOO_SMALL) || info.handle_count != 1) wrong++;
  }
  expect_eq("200 ipc_reply_recv replies refused (buffer_too_small, 1 handle)", wrong, 0);
  wrong = 0;
  for (int round = 0; round < 200; round++) {
    int64_t got = call(endpoint, "d\1", 2, reply, sizeof reply, NULL, 0, &info);
    if (got != ERR(APUS_ERR_BUFFER_TOO_SMALL) || info.handle_count != 1) wrong++;
  }
  expect_eq("200 ipc_reply replies refused (buffer_too_small, 1 handle)", wrong, 0);
  wrong = 0;
  for (int round = 0; round < 40; round++) {
    int64_t got = call(endpoint, "h\4", 2, reply, sizeof reply, handles, 2, &info);
    if (got != ERR(APUS_ERR_BUFFER_TOO_SMALL) || info.handle_count != 4) wrong++;
  }
  expect_eq("40 replies of 4 handles to room for 2 refused", wrong, 0);
  struct findings seen = ask(endpoint);
  expect_eq("no handle stayed in the server's table", seen.stranded, 0);
  expect_eq("the server could always make its handles", seen.create_failures, 0);

  /* Our table with one free slot, a reply of 2 handles: refused, and the one that
   * would have fit does not stay behind in our table either. */
  uint32_t fillers[128];
  int filled = 0;
  for (; filled < 128; filled++) {
    int64_t extra = apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE);
    if (apus_is_error(extra)) break;
    fillers[filled] = (uint32_t)extra;
  }
  expect_true("our table filled", filled > 0 && filled < 128);
  apus_handle_close(fillers[--filled]);
  expect_eq("2 handles into 1 free slot: refused", call(endpoint, "h\2", 2, reply, sizeof reply, handles, 4, &info),
            ERR(APUS_ERR_BUFFER_TOO_SMALL));
  expect_eq("with the count", info.handle_count, 2);
  int64_t last = apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE);
  expect_true("the free slot is still free", !apus_is_error(last));
  expect_eq("and it was the only one",
            apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE), ERR(APUS_ERR_LIMIT_REACHED));
  if (!apus_is_error(last)) apus_handle_close((apus_handle_t)last);
  while (filled > 0) apus_handle_close(fillers[--filled]);
  expect_eq("the server's table is clean after the partial install", ask(endpoint).stranded, 0);

  /* A caller whose reply_handles buffer is read-only: fault, and the handle that was
   * installed for it is closed (its value never reached the caller). */
  uint64_t objects = snapshot().objects;
  expect_eq("reply handles into read-only memory: fault",
            call(endpoint, "h\1", 2, reply, sizeof reply, (uint32_t *)(uintptr_t)self, 4, &info), ERR(APUS_ERR_FAULT));
  expect_eq("the handle it could not learn is closed", snapshot().objects, objects);

  /* A caller killed while the server holds its call; the reply (4 handles) comes
   * after: dropped, and its handles closed, not kept by the server. */
  struct apus_system_info before = snapshot();
  int64_t victim = start("kept", endpoint, APUS_RIGHT_WRITE);
  expect_true("start the kept caller", victim > 0);
  int held = 0;
  for (int round = 0; round < 2000 && !held; round++) {
    held = ask(endpoint).kept == 1;
    if (!held) apus_yield();
  }
  expect_true("the server keeps its call", held);
  apus_process_kill((apus_handle_t)victim);
  expect_eq("the kept caller was killed", end_status(victim), 100 + APUS_EXIT_REASON_KILLED);
  expect_eq("answer the dead caller with 4 handles", call(endpoint, "W\4", 2, reply, sizeof reply, NULL, 0, &info), 2);
  expect_eq("none stayed with the server", ask(endpoint).stranded, 0);
  expect_true("kernel objects back to the start", objects_back_to(before.objects));
  expect_eq("heap bytes back to the start", snapshot().heap_bytes, before.heap_bytes);

  /* Callers killed at random points of replies with handles: nothing is left over. */
  for (int round = 0; round < 40; round++) {
    int64_t caller = start("hammer", endpoint, APUS_RIGHT_WRITE);
    if (caller <= 0) { expect_true("start a hammering caller", 0); break; }
    for (int spin = 0; spin < 1 + round % 7; spin++) apus_yield();
    apus_process_kill((apus_handle_t)caller);
    int64_t status = end_status(caller);
    if (status != 100 + APUS_EXIT_REASON_KILLED) expect_eq("a hammering caller was killed", status, 100 + APUS_EXIT_REASON_KILLED);
  }
  seen = ask(endpoint);
  expect_eq("no handle stayed in the server after the kills", seen.stranded, 0);
  expect_eq("the server could always make its handles after the kills", seen.create_failures, 0);
  expect_true("kernel objects back to the start after the kills", objects_back_to(before.objects));
  expect_eq("heap bytes back to the start after the kills", snapshot().heap_bytes, before.heap_bytes);

  /* A second client is still served, and the server ends cleanly. */
  expect_eq("another call is answered", call(endpoint, "r", 1, reply, sizeof reply, NULL, 0, &info), 2);
  expect_eq("with ok", memcmp(reply, "ok", 2), 0);
  apus_handle_close((apus_handle_t)endpoint);
  expect_eq("the server exits cleanly", end_status(server), 0);
  return finish("reply handles");
}
