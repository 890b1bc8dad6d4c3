/* What the protocol fuzzer's parts share (protofuzz.c): a session with one server (its
 * endpoint, the shared buffer we attached, our request ids), the one call every request
 * goes through (it checks the reply's status against the spec's table and reports a
 * server that died), the counts printed at the end, and the scribbler: a second thread
 * that rewrites the shared buffer while a request is in flight. */
#ifndef PROTOFUZZ_H
#define PROTOFUZZ_H
#include <apus/protocol_fuzz.h>
#include <registry.h>
#include <shared_buffer.h>
#include "testlib.h"

/* What one fuzzing process did, printed per server at the end. */
struct fuzz_counts {
  uint64_t messages, malformed, stateful, files, sockets, buffers, lookups, children, killed, exited, rewrites, findings;
};
static struct fuzz_counts counts;

/* The conductor's page: [0] counts answered messages, so it can tell a hang from a slow
 * run; [1] and [2] are the op and length of the call in flight. NULL when nobody
 * watches. */
static volatile uint64_t *heartbeat;
static uint64_t seed_used;

/* Counts a finding; whether to print it: the first few of a process, so that a child
 * looping on a broken server does not flood the log (the count says how many). */
#define FINDINGS_PRINTED 8
static volatile uint64_t *findings_elsewhere; /* a child's: its fuzzer's count of them */
static int finding(void) {
  counts.findings++;
  if (findings_elsewhere) __atomic_add_fetch(findings_elsewhere, 1, __ATOMIC_RELAXED);
  if (counts.findings == FINDINGS_PRINTED + 1) printf("PROTOFUZZ: FINDING seed=%lu: more findings, not printed\n", seed_used);
  return counts.findings <= FINDINGS_PRINTED;
}

struct session {
  const struct apus_fuzz_protocol *protocol;
  apus_handle_t server;
  uint8_t *buffer;      /* our mapping of the attached buffer, or NULL */
  uint64_t size;
  uint64_t next_id;
  int dead;             /* a call failed with peer_closed: the server is gone */
};

static const struct apus_fuzz_protocol *protocol_named(const char *name) {
  for (int p = 0; p < APUS_FUZZ_PROTOCOL_COUNT; p++)
    if (strcmp(apus_fuzz_protocols[p].name, name) == 0) return &apus_fuzz_protocols[p];
  return NULL;
}

/* The statuses the spec lets `code` answer: bad_request alone for an unknown op. */
static uint64_t declared_statuses(const struct apus_fuzz_protocol *protocol, uint32_t code) {
  for (uint32_t i = 0; i < protocol->op_count; i++)
    if (protocol->ops[i].code == code) return protocol->ops[i].statuses;
  return 1ull << protocol->bad_request;
}

/* Errors of the call itself that are the caller's doing, not the server's: handles we
 * cannot send, and a reply that does not fit the room we gave it. */
static int our_own_error(int64_t got) {
  return got == ERR(APUS_ERR_BAD_HANDLE) || got == ERR(APUS_ERR_ACCESS_DENIED) || got == ERR(APUS_ERR_BUFFER_TOO_SMALL);
}

/* Sends `length` bytes of `request` (its header's id is set here) with `count` handles
 * (moved), with room for `reply_cap` reply bytes (at most 256) and `handle_cap` reply
 * handles (we close any that come); the reply's first `out_size` bytes go to `out`.
 * Returns the reply's status, or the call's negated error. A status the spec does not
 * declare for the op, or a call that fails for the server's reasons (peer_closed: it
 * died), is a finding. Threads may call it at once (children do). */
static int64_t call_server(struct session *s, void *request, uint64_t length, uint32_t *handles, uint64_t count,
                           void *out, uint64_t out_size, uint64_t reply_cap, uint64_t handle_cap) {
  struct apus_msg_header *header = request;
  uint32_t code = length >= sizeof *header ? header->op : 0;
  if (length >= sizeof *header) header->id = s->next_id++;
  uint64_t reply[32] = {0};
  uint32_t received[4];
  struct apus_ipc_call_args args = {.msg = (uint64_t)(uintptr_t)request, .len = length,
                                    .handles = (uint64_t)(uintptr_t)handles, .handle_count = count,
                                    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = reply_cap > sizeof reply ? sizeof reply : reply_cap,
                                    .reply_handles = (uint64_t)(uintptr_t)received,
                                    .reply_handle_cap = handle_cap > 4 ? 4 : handle_cap};
  struct apus_ipc_recv_info info = {0};
  if (heartbeat) heartbeat[1] = code, heartbeat[2] = length; /* what a hang was about */
  int64_t got = apus_ipc_call(s->server, &args, &info);
  counts.messages++;
  if (heartbeat) heartbeat[0]++;
  if (got >= 0)
    for (uint32_t i = 0; i < info.handle_count && i < 4; i++) apus_handle_close(received[i]);
  if (got < 0) {
    /* Handles a failed send did not move are still ours. */
    for (uint64_t i = 0; i < count; i++) apus_handle_close(handles[i]);
    if (our_own_error(got)) return got;
    s->dead = got == ERR(APUS_ERR_PEER_CLOSED);
    if (finding()) printf("PROTOFUZZ: FINDING seed=%lu %s message #%lu op=%u length=%lu: the call failed (error %ld)%s\n", seed_used,
           s->protocol->name, counts.messages, code, length, -got, s->dead ? ": the server died" : "");
    return got;
  }
  if (got < (int64_t)sizeof(struct apus_msg_header)) {
    if (finding()) printf("PROTOFUZZ: FINDING seed=%lu %s message #%lu op=%u: a reply of %ld bytes\n", seed_used, s->protocol->name,
           counts.messages, code, got);
    return ERR(APUS_ERR_INVALID_ARGUMENT);
  }
  if (out) memcpy(out, reply, out_size > sizeof reply ? sizeof reply : out_size);
  uint32_t status = ((struct apus_msg_header *)reply)->status;
  uint64_t allowed = length >= sizeof *header ? declared_statuses(s->protocol, code) : 1ull << s->protocol->bad_request;
  if (status >= 64 || !(allowed & (1ull << status))) {
    if (finding()) printf("PROTOFUZZ: FINDING seed=%lu %s message #%lu op=%u length=%lu handles=%lu: status %u, which the spec does not declare\n",
           seed_used, s->protocol->name, counts.messages, code, length, count, status);
  }
  return status;
}

/* The common case: room for any reply and up to four handles. */
static int64_t call_plain(struct session *s, void *request, uint64_t length, uint32_t *handles, uint64_t count,
                          void *out, uint64_t out_size) {
  return call_server(s, request, length, handles, count, out, out_size, 256, 4);
}

/* A buffer for attach_buffer: mapped here, and a handle (read, write, map, transfer) to
 * send. Returns the handle to send, or 0. */
static uint32_t new_buffer(uint64_t size, uint8_t **data) {
  struct shared_buffer buffer;
  if (shared_buffer_create(&buffer, size) != 0) return 0;
  apus_handle_close(buffer.shm); /* the mapping keeps the object */
  *data = buffer.data;
  return buffer.to_send;
}

/* ---- The scribbler: rewrites [buffer, buffer + size) while the main thread waits on a
 * request that reads or writes it. Records that look like readdir's (record_len 0,
 * name_len past the record), zeros, and random bytes. It sleeps on `wake` between
 * rounds; scribble_stop waits until it has let go of the buffer (which may then be
 * unmapped). */
static struct {
  apus_handle_t wake;         /* our end: the thread receives on it */
  volatile uint8_t *buffer;
  volatile uint64_t size;
  volatile int run, parked;
} scribbler;

static void scribble_loop(uint64_t unused) {
  (void)unused;
  uint64_t local = state ^ 0x5bd1e995u; /* its own sequence: the main thread's stays reproducible */
  for (;;) {
    uint8_t go;
    struct apus_ipc_recv_info info;
    if (apus_is_error(apus_ipc_recv(scribbler.wake, &go, 1, NULL, 0, &info))) apus_thread_exit(0);
    while (scribbler.run) {
      local ^= local << 13; local ^= local >> 7; local ^= local << 17;
      uint64_t size = scribbler.size, at = size > 16 ? (local >> 8) % (size - 16) & ~7ull : 0;
      volatile uint8_t *where = scribbler.buffer + at;
      switch (local % 4) {
      case 0: /* a dirent whose record_len is 0 and whose name runs past the buffer */
        ((volatile uint64_t *)where)[0] = local;
        ((volatile uint64_t *)where)[1] = (uint64_t)0xfff0u << 32 | 1;
        break;
      case 1: for (int i = 0; i < 16; i++) where[i] = 0; break;
      case 2: ((volatile uint64_t *)where)[0] = local; ((volatile uint64_t *)where)[1] = ~local; break;
      default: for (uint64_t i = 0; i < size && i < 4096; i += 8) *(volatile uint64_t *)(scribbler.buffer + i) = 0; break;
      }
      counts.rewrites++;
      if ((local & 63) == 0) apus_yield();
    }
    scribbler.parked = 1;
  }
}

static int scribble_start(uint8_t *buffer, uint64_t size) {
  if (!scribbler.wake) {
    int64_t endpoint = apus_endpoint_create();
    if (apus_is_error(endpoint)) return 0;
    scribbler.wake = (apus_handle_t)endpoint;
    if (apus_is_error(start_thread(scribble_loop, 0))) return 0;
  }
  if (!buffer || size < 16) return 0;
  scribbler.buffer = buffer;
  scribbler.size = size;
  scribbler.parked = 0;
  scribbler.run = 1;
  uint8_t go = 1;
  if (apus_is_error(apus_ipc_send(scribbler.wake, &go, 1, NULL, 0))) {
    scribbler.run = 0;
    return 0;
  }
  return 1;
}

static void scribble_stop(int started) {
  if (!started) return;
  scribbler.run = 0;
  while (!scribbler.parked) apus_yield();
}
#endif
