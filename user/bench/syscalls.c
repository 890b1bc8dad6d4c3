/* make bench, from user space: the TSC counts guest instructions under -icount
 * (DESIGN.md §7), so each figure is the same on every run.
 *   null_syscall  - yield with nothing else ready: entry, generated dispatch, return
 *   process_spawn - spawn tests/child, wait for it, close the handle
 *   ipc_call_roundtrip(_4k) - ipc_call to a server in another process that answers
 *                   with ipc_reply_recv; empty, then 4 KiB each way
 *   ipc_send_recv_roundtrip - the queued path: send, the server receives and sends
 *                   back, receive
 *   shm_map_unmap - map and unmap one page of a shared memory object */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <apus/syscall.h>
#include "benchlib.h"

/* bench/syscalls server: handle 1 reads calls, handle 2 reads queued requests and
 * handle 3 writes their answers. Answers every call with a reply of the request's
 * length (the same buffer), until peer_closed. */
static int serve_calls(void) {
  static uint8_t buffer[4096];
  struct apus_ipc_recv_info info;
  struct apus_ipc_reply_recv_args args = {.buf = (uint64_t)(uintptr_t)buffer, .cap = sizeof buffer, .reply = (uint64_t)(uintptr_t)buffer};
  for (;;) {
    int64_t got = apus_ipc_reply_recv(1, &args, &info);
    if (got < 0) return 0;
    args.reply_len = (uint64_t)got;
  }
}

static int serve_queued(void) {
  static uint8_t buffer[4096];
  struct apus_ipc_recv_info info;
  for (;;) {
    int64_t got = apus_ipc_recv(2, buffer, sizeof buffer, NULL, 0, &info);
    if (got < 0) return 0;
    if (apus_ipc_send(3, buffer, (uint64_t)got, NULL, 0) != 0) return 0;
  }
}

static int server(const char *mode) {
  return mode[0] == 'c' ? serve_calls() : serve_queued();
}

static int64_t start_server(const char *mode, const struct apus_handle_grant *grants, uint64_t count) {
  static const char path[] = "bench/syscalls";
  char args[40];
  memcpy(args, path, sizeof path);
  memcpy(args + sizeof path, mode, strlen(mode) + 1);
  return apus_process_spawn_handles((const uint8_t *)path, sizeof path - 1, (const uint8_t *)args, sizeof path + strlen(mode) + 1,
                                    grants, count);
}

/* One call round trip, client and server in different processes. */
static void bench_calls(void) {
  enum { ROUNDS = 20000 };
  static uint8_t request[4096], reply[4096];
  int64_t endpoint = apus_endpoint_create();
  struct apus_handle_grant grant = {(uint32_t)endpoint, APUS_RIGHT_READ};
  int64_t server = start_server("calls", &grant, 1);
  struct apus_ipc_recv_info info;
  uint64_t sizes[2] = {0, 4096};
  const char *names[2] = {"ipc_call_roundtrip", "ipc_call_roundtrip_4k"};
  for (int kind = 0; kind < 2; kind++) {
    struct apus_ipc_call_args args = {.msg = (uint64_t)(uintptr_t)request, .len = sizes[kind],
                                      .reply = (uint64_t)(uintptr_t)reply, .reply_cap = sizeof reply};
    for (int i = 0; i < 100; i++) apus_ipc_call((apus_handle_t)endpoint, &args, &info);  /* warm */
    uint64_t start = rdtsc();
    for (int i = 0; i < ROUNDS; i++) {
      if (apus_ipc_call((apus_handle_t)endpoint, &args, &info) != (int64_t)sizes[kind]) {
        printf("BENCH %s failed\n", names[kind]);
        return;
      }
    }
    printf("BENCH %s ticks_per_op=%lu\n", names[kind], (rdtsc() - start) / ROUNDS);
  }
  apus_handle_close((uint32_t)endpoint);  /* the server sees peer_closed and ends */
  struct apus_process_status status;
  apus_process_wait((apus_handle_t)server, &status);
  apus_handle_close((uint32_t)server);
}

/* One queued round trip: send a request, the server receives it and sends an answer. */
static void bench_queued(void) {
  enum { ROUNDS = 20000 };
  int64_t requests = apus_endpoint_create(), answers = apus_endpoint_create();
  struct apus_handle_grant grants[3] = {{(uint32_t)requests, APUS_RIGHT_READ}, {(uint32_t)requests, APUS_RIGHT_READ},
                                        {(uint32_t)answers, APUS_RIGHT_WRITE}};
  int64_t server = start_server("queued", grants, 3);
  uint64_t word = 0;
  struct apus_ipc_recv_info info;
  uint64_t start = 0;
  for (int i = -100; i < ROUNDS; i++) {
    if (i == 0) start = rdtsc();
    apus_ipc_send((apus_handle_t)requests, (const uint8_t *)&word, sizeof word, NULL, 0);
    if (apus_ipc_recv((apus_handle_t)answers, (uint8_t *)&word, sizeof word, NULL, 0, &info) != sizeof word) {
      printf("BENCH ipc_send_recv_roundtrip failed\n");
      return;
    }
  }
  printf("BENCH ipc_send_recv_roundtrip ticks_per_op=%lu\n", (rdtsc() - start) / ROUNDS);
  apus_handle_close((uint32_t)requests);
  struct apus_process_status status;
  apus_process_wait((apus_handle_t)server, &status);
  apus_handle_close((uint32_t)server);
  apus_handle_close((uint32_t)answers);
}

/* Map and unmap one page of a shared memory object. */
static void bench_shm(void) {
  enum { ROUNDS = 5000 };
  int64_t shm = apus_shm_create(4096);
  uint64_t start = rdtsc();
  for (int i = 0; i < ROUNDS; i++) {
    int64_t at = apus_shm_map((apus_handle_t)shm, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
    apus_vm_unmap((uint64_t)at, 4096);
  }
  printf("BENCH shm_map_unmap ticks_per_op=%lu\n", (rdtsc() - start) / ROUNDS);
  apus_handle_close((uint32_t)shm);
}

int main(int argc, char **argv) {
  if (argc > 1) return server(argv[1]);
  enum { CALLS = 100000, SPAWNS = 50 };
  for (int i = 0; i < 1000; i++) apus_yield();  /* warm */
  uint64_t start = rdtsc();
  for (int i = 0; i < CALLS; i++) apus_yield();
  uint64_t calls = rdtsc() - start;
  printf("BENCH null_syscall ticks_per_op=%lu\n", calls / CALLS);

  static const char path[] = "tests/child";
  start = rdtsc();
  for (int i = 0; i < SPAWNS; i++) {
    int64_t child = apus_process_spawn((const uint8_t *)path, sizeof path - 1, (const uint8_t *)path, sizeof path);
    struct apus_process_status status;
    if (apus_is_error(child) || apus_is_error(apus_process_wait((apus_handle_t)child, &status))) {
      printf("BENCH process_spawn failed\n");
      return 1;
    }
    apus_handle_close((apus_handle_t)child);
  }
  printf("BENCH process_spawn ticks_per_op=%lu\n", (rdtsc() - start) / SPAWNS);
  bench_calls();
  bench_queued();
  bench_shm();
  return 0;
}
