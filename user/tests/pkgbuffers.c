/* pkgd keeps each client's buffer until that client ends, and never takes one client's
 * buffer to make room for another (tests/pkg/test_pkg_buffers.py). pkgd once had 8
 * buffers, handed out round robin: 8 other processes attaching stripped a client of
 * its buffer. Here this process attaches, then 40 children attach one after another
 * (more than pkgd holds at once: each must be freed at its end), 32 exiting and 8
 * killed; each must be accepted, and this process's buffer must still be its own.
 *   tests/pkgbuffers           the client that must keep its buffer
 *   tests/pkgbuffers attach    a child: attaches, exits with 0 or 10 + the status
 *   tests/pkgbuffers hold      a child: attaches, reports on its handle 2, waits to be killed */
#include "testlib.h"
#include <apus/pkg.h>
#include <registry.h>

#define BUFFER_SIZE 4096u
#define CHILDREN 40

static apus_handle_t server;

static int64_t call(void *request, uint64_t length, const uint32_t *handles, uint64_t count, void *reply, uint64_t size) {
  static uint64_t id = 1;
  ((struct apus_msg_header *)request)->id = id++;
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)request, .len = length, .handles = (uint64_t)(uintptr_t)handles, .handle_count = count,
    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = size,
  };
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_call(server, &args, &info);
  return apus_is_error(got) ? got : ((struct apus_msg_header *)reply)->status;
}

/* Attaches a fresh buffer; pkgd's status. */
static int64_t attach(void) {
  int64_t shm = apus_shm_create(BUFFER_SIZE);
  if (apus_is_error(shm)) return shm;
  struct apus_pkg_attach_buffer_request request = {.header = {.op = APUS_PKG_OP_ATTACH_BUFFER}, .buffer_size = BUFFER_SIZE};
  uint32_t handle = (uint32_t)shm;
  struct apus_msg_header reply;
  return call(&request, sizeof request, &handle, 1, &reply, sizeof reply);
}

static int64_t list(void) {
  struct apus_pkg_list_request request = {.header = {.op = APUS_PKG_OP_LIST}, .buffer_offset = 0, .buffer_len = BUFFER_SIZE};
  struct apus_pkg_list_reply reply;
  return call(&request, sizeof request, NULL, 0, &reply, sizeof reply);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    server = 1;
    int64_t status = attach();
    if (status != APUS_PKG_STATUS_OK) return 10 + (int)(status < 0 ? 9 : status);
    if (strcmp(argv[1], "hold") == 0) {
      struct apus_ipc_recv_info info;
      struct apus_ipc_call_args args = {.msg = (uint64_t)(uintptr_t)"held", .len = 4};
      apus_ipc_call(2, &args, &info); /* never answered: the parent kills us */
    }
    return 0;
  }
  test_name = "PKGBUFFERS";
  expect_eq("look pkg up", registry_lookup(REGISTRY_HANDLE, "pkg", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &server), 0);
  expect_eq("attach", attach(), APUS_PKG_STATUS_OK);
  expect_eq("list through it", list(), APUS_PKG_STATUS_OK);
  apus_handle_t control = (apus_handle_t)apus_endpoint_create();
  struct apus_handle_grant grants[2] = {
    {server, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
    {control, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
  };
  for (int i = 0; i < CHILDREN; i++) {
    int hold = i % 5 == 4;
    int64_t child = start_case_with("tests/pkgbuffers", hold ? "hold" : "attach", grants, 2);
    expect_true("start a child", !apus_is_error(child));
    if (apus_is_error(child)) break;
    if (!hold) {
      expect_eq("a child attaches (the ended ones' buffers are free)", end_status(child), 0);
      continue;
    }
    char note[8];
    struct apus_ipc_recv_info info;
    int64_t got = apus_ipc_recv(control, (uint8_t *)note, sizeof note, NULL, 0, &info);
    expect_eq("a holding child attached", got, 4);
    int64_t answer = apus_ipc_reply_detach();
    expect_eq("kill it", apus_process_kill((apus_handle_t)child), 0);
    expect_eq("it was killed", end_status(child), 100 + APUS_EXIT_REASON_KILLED);
    if (!apus_is_error(answer)) apus_handle_close((apus_handle_t)answer);
  }
  expect_eq("this process's buffer is still its own", list(), APUS_PKG_STATUS_OK);
  apus_handle_close(control);
  return finish("pkg buffers");
}
