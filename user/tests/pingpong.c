/* ping and pong find each other through the registry (svcman). Names are capabilities
 * (issue 21): only a server init supervises may register one, so pong is such a
 * server (init=service=tests/pingpong,pong) and ping an ordinary program
 * (run=tests/pingpong). Each prints its own marker after it checked its own work.
 *   pong - registers "pong" (a second add of it is name_taken), tells init it is ready
 *          and answers calls: "ping" with "pong" ("PONG: ok" once the reply went out),
 *          "quit" with "bye", after which it exits and init's supervisor starts it again.
 *   ping - looks "pong" up (waiting for it), calls it ("PING: ok" once the answer is
 *          checked), then the registry's rules as an ordinary program sees them: it
 *          cannot add (neither pong's live name nor a new one), a device's name does
 *          not exist for it, bad names are bad_request; and pong's name, reserved while
 *          pong restarts, leads to the restarted pong. */
#include <registry.h>
#include "testlib.h"

#define READY_HANDLE ((apus_handle_t)2) /* init's start handshake (supervisor.c) */

static int pong(void) {
  int64_t endpoint = apus_endpoint_create();
  int64_t theirs = apus_is_error(endpoint) ? endpoint : apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
  int64_t again = apus_is_error(endpoint) ? endpoint : apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
  if (apus_is_error(theirs) || apus_is_error(again)) return 1;
  int64_t added = registry_add(REGISTRY_HANDLE, "pong", (apus_handle_t)theirs);
  if (added != APUS_REGISTRY_STATUS_OK) {
    printf("PONG: cannot register pong: %ld\n", added);
    return 1;
  }
  int64_t taken = registry_add(REGISTRY_HANDLE, "pong", (apus_handle_t)again);
  if (taken != APUS_REGISTRY_STATUS_NAME_TAKEN) {
    printf("PONG: a second add of pong returned %ld, expected name_taken\n", taken);
    return 1;
  }
  uint64_t note = 1;
  apus_ipc_send(READY_HANDLE, (const uint8_t *)&note, sizeof note, NULL, 0);
  apus_handle_close(READY_HANDLE);
  for (;;) {
    char request[16];
    struct apus_ipc_recv_info info;
    int64_t got = apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)request, sizeof request, NULL, 0, &info);
    if (apus_is_error(got)) return 1;
    if (!(info.flags & APUS_IPC_RECV_FLAGS_CALL)) continue;
    int quit = got == 4 && memcmp(request, "quit", 4) == 0;
    int ping = got == 4 && memcmp(request, "ping", 4) == 0;
    int64_t reply = apus_ipc_reply_detach();
    if (apus_is_error(reply)) continue;
    int64_t answered = apus_ipc_reply((apus_handle_t)reply, (const uint8_t *)(quit ? "bye!" : ping ? "pong" : "what"), 4, NULL, 0);
    if (ping && answered == 0) printf("PONG: ok\n");
    if (quit) return 0; /* its endpoint loses its only reader; init starts it again */
  }
}

/* Calls the server registered as pong with `word`; its 4-byte answer in `answer`. A
 * pong that is gone (it quit, and the name still led to it) is looked up again. */
static int64_t call_pong(const char *word, char *answer) {
  int64_t got = -(int64_t)APUS_ERR_PEER_CLOSED;
  for (int attempt = 0; attempt < 20 && got == -(int64_t)APUS_ERR_PEER_CLOSED; attempt++) {
    apus_handle_t endpoint = 0;
    int64_t found = registry_lookup(REGISTRY_HANDLE, "pong", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &endpoint);
    if (found != APUS_REGISTRY_STATUS_OK) return found;
    char reply[16];
    struct apus_ipc_call_args args = {.msg = (uint64_t)(uintptr_t)word, .len = 4,
                                      .reply = (uint64_t)(uintptr_t)reply, .reply_cap = sizeof reply};
    struct apus_ipc_recv_info info;
    got = apus_ipc_call(endpoint, &args, &info);
    apus_handle_close(endpoint);
    if (got == 4) memcpy(answer, reply, 4);
  }
  return got;
}

static int ping(void) {
  char answer[4] = {0};
  int64_t got = call_pong("ping", answer);
  expect_true("pong answered", got == 4 && memcmp(answer, "pong", 4) == 0);
  if (test_failures == 0) printf("PING: ok\n");

  /* An ordinary program cannot add: not pong's live name, not a new one. */
  apus_handle_t stale = 0;
  const char *names[] = {"pong", "intruder"};
  for (int i = 0; i < 2; i++) {
    int64_t mine = apus_endpoint_create();
    int64_t copy = apus_is_error(mine) ? mine : apus_handle_duplicate((apus_handle_t)mine, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
    expect_eq(i == 0 ? "add a live server's name" : "add a new name", registry_add(REGISTRY_HANDLE, names[i], (apus_handle_t)copy),
              APUS_REGISTRY_STATUS_ACCESS_DENIED);
    apus_handle_close((apus_handle_t)mine);
  }
  expect_eq("lookup block0 (a device)", registry_lookup(REGISTRY_HANDLE, "block0", 0, &stale), APUS_REGISTRY_STATUS_NOT_FOUND);
  expect_eq("a name too long", registry_lookup(REGISTRY_HANDLE, "0123456789012345678901234567890123456789012345678", 0, &stale),
            APUS_REGISTRY_STATUS_BAD_REQUEST);
  expect_eq("lookup of a name nobody has", registry_lookup(REGISTRY_HANDLE, "nobody", 0, &stale), APUS_REGISTRY_STATUS_NOT_FOUND);

  /* pong quits: its name is reserved for its restart, which the next call reaches. */
  got = call_pong("quit", answer);
  expect_true("pong said bye", got == 4 && memcmp(answer, "bye!", 4) == 0);
  got = call_pong("ping", answer);
  expect_true("the restarted pong answered", got == 4 && memcmp(answer, "pong", 4) == 0);
  return finish("registry");
}

int main(int argc, char **argv) {
  test_name = "PING";
  if (argc > 1 && strcmp(argv[1], "pong") == 0) return pong();
  return ping();
}
