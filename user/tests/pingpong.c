/* ping and pong find each other through the registry (svcman). This program is ping:
 * it starts `tests/pingpong pong` (passing the registry on as its handle 1), looks
 * "pong" up waiting for it to be registered (the two start in any order), calls it,
 * and checks the answer. pong registers "pong" and answers one call. Then the
 * registry's rules: a taken name is refused while its server lives, a sender without
 * manage cannot register, and a server that is gone loses its name. */
#include <registry.h>
#include "testlib.h"

static const char self[] = "tests/pingpong";

static int pong(void) {
  int64_t endpoint = apus_endpoint_create();
  int64_t theirs = apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
  if (apus_is_error(endpoint) || apus_is_error(theirs)) return 2;
  if (registry_add(REGISTRY_HANDLE, "pong", (apus_handle_t)theirs) != APUS_REGISTRY_STATUS_OK) return 3;
  char request[16];
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)request, sizeof request, NULL, 0, &info);
  if (got != 4 || memcmp(request, "ping", 4) != 0 || !(info.flags & APUS_IPC_RECV_FLAGS_CALL)) return 4;
  int64_t reply = apus_ipc_reply_detach();
  if (apus_ipc_reply((apus_handle_t)reply, (const uint8_t *)"pong", 4, NULL, 0) != 0) return 5;
  printf("PONG: ok\n");
  return 0;  /* exits: its endpoint loses its only reader */
}

/* Tries to register with a registry handle that lacks manage. */
static int intruder(void) {
  int64_t endpoint = apus_endpoint_create();
  int64_t status = registry_add(REGISTRY_HANDLE, "intruder", (apus_handle_t)endpoint);
  return status == APUS_REGISTRY_STATUS_ACCESS_DENIED ? 0 : 2;
}

int main(int argc, char **argv) {
  test_name = "PING";
  if (argc > 1 && strcmp(argv[1], "pong") == 0) return pong();
  if (argc > 1 && strcmp(argv[1], "intruder") == 0) return intruder();

  struct apus_handle_grant registrar = {REGISTRY_HANDLE, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER | APUS_RIGHT_MANAGE};
  int64_t peer = start_case_with(self, "pong", &registrar, 1);
  expect_true("start pong", peer > 0);
  apus_handle_t endpoint = 0;
  expect_eq("lookup pong, waiting for it", registry_lookup(REGISTRY_HANDLE, "pong", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &endpoint),
            APUS_REGISTRY_STATUS_OK);
  /* While pong lives, its name is taken. */
  int64_t other = apus_endpoint_create();
  expect_eq("a taken name", registry_add(REGISTRY_HANDLE, "pong", (apus_handle_t)other), APUS_REGISTRY_STATUS_NAME_TAKEN);
  char reply[16];
  struct apus_ipc_call_args args = {.msg = (uint64_t)(uintptr_t)"ping", .len = 4,
                                    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = sizeof reply};
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_call(endpoint, &args, &info);
  expect_true("pong answered", got == 4 && memcmp(reply, "pong", 4) == 0);
  if (test_failures == 0) printf("PING: ok\n");
  expect_eq("pong ended well", end_status(peer), 0);
  apus_handle_close(endpoint);

  /* pong is gone: its name goes with it, and the name is free again. */
  apus_handle_t stale = 0;
  expect_eq("lookup a gone server's name", registry_lookup(REGISTRY_HANDLE, "pong", 0, &stale), APUS_REGISTRY_STATUS_NOT_FOUND);
  int64_t mine = apus_endpoint_create();
  int64_t mine_copy = apus_handle_duplicate((apus_handle_t)mine, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER);
  expect_eq("register the freed name", registry_add(REGISTRY_HANDLE, "pong", (apus_handle_t)mine_copy), APUS_REGISTRY_STATUS_OK);
  apus_handle_close((apus_handle_t)mine);  /* and let it go again */

  /* Bad requests and rights. */
  expect_eq("a name too long", registry_lookup(REGISTRY_HANDLE, "0123456789012345678901234567890123456789012345678", 0, &stale),
            APUS_REGISTRY_STATUS_BAD_REQUEST);
  expect_eq("lookup of a name nobody has", registry_lookup(REGISTRY_HANDLE, "nobody", 0, &stale), APUS_REGISTRY_STATUS_NOT_FOUND);
  struct apus_handle_grant plain = {REGISTRY_HANDLE, APUS_RIGHT_WRITE};
  expect_eq("a sender without manage cannot register", end_status(start_case_with(self, "intruder", &plain, 1)), 0);
  apus_handle_close((apus_handle_t)other);
  return finish("registry");
}
