/* protofuzz: the protocol fuzzer (issue 14). For each server — the registry (svcman),
 * block0 (blkdevd), fs (fsd), pkg (pkgd), net0 (netd) — it sends messages generated from the
 * protocol's spec (apus/protocol_fuzz.h, from abigen): known and unknown ops, bodies
 * exactly the request's size, short and over-long, random fields, stale ids, and
 * missing or extra handles. Every reply must carry a status the spec declares for that
 * op (bad_request for malformed ones), and after every message a well-formed request
 * must still be served. An op whose reply may wait for the outside world (spec:
 * waits="true": a receive, a ping) is sent only malformed, so the fuzzer never waits.
 * Usage: tests/protofuzz seed=N messages=M (per server). */
#include <apus/protocol_fuzz.h>
#include <block_client.h>
#include <fs_client.h>
#include <registry.h>
#include "testlib.h"

static uint8_t request[4096], reply[4096];
static uint64_t findings;
static int trace_handles;

/* One message to `server`; returns the reply's status, or -1 when the call failed. */
static int64_t exchange(apus_handle_t server, uint64_t length, const uint32_t *handles, uint64_t count) {
  uint32_t received[4];
  struct apus_ipc_call_args args = {.msg = (uint64_t)(uintptr_t)request, .len = length,
                                    .handles = (uint64_t)(uintptr_t)handles, .handle_count = count,
                                    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = sizeof reply,
                                    .reply_handles = (uint64_t)(uintptr_t)received, .reply_handle_cap = 4};
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_call(server, &args, &info);
  if (got >= 0) for (uint32_t i = 0; i < info.handle_count && i < 4; i++) apus_handle_close(received[i]);
  if (got < (int64_t)sizeof(struct apus_msg_header)) return got < 0 ? got : -1000;
  return ((struct apus_msg_header *)reply)->status;
}

/* A shm handle to send (moved), sometimes with fewer rights. */
static uint32_t fresh_shm(void) {
  int64_t shm = apus_shm_create(4096 * (1 + pick(4)));
  if (apus_is_error(shm)) return 0;
  if (pick(3) == 0) {
    int64_t weaker = apus_handle_duplicate((apus_handle_t)shm, APUS_RIGHT_READ | APUS_RIGHT_TRANSFER);
    apus_handle_close((apus_handle_t)shm);
    return (uint32_t)weaker;
  }
  return (uint32_t)shm;
}

/* A request that must be served: the server's liveness probe. */
typedef int64_t (*probe_fn)(apus_handle_t server);

static int64_t probe_registry(apus_handle_t server) {
  apus_handle_t found;
  int64_t status = registry_lookup(server, "protofuzz", 0, &found);
  if (status == 0) apus_handle_close(found);
  return status;
}

static int64_t probe_block(apus_handle_t server) {
  struct block_client client = {server, 1};
  struct apus_block_info_reply info;
  return block_info(&client, &info);
}

static struct fs_client fs;
static int64_t probe_fs(apus_handle_t server) {
  (void)server;
  /* A fuzzed attach_buffer replaced ours (same sender): attach a fresh one first. */
  if (fs_connect(&fs, 16 << 10) != 0) return -1;
  struct apus_fs_stat_reply stat;
  int64_t status = fs_stat(&fs, "/", &stat);
  apus_vm_unmap((uint64_t)(uintptr_t)fs.buffer, 16 << 10);
  apus_handle_close(fs.shm);
  apus_handle_close(fs.endpoint);
  return status;
}

static int64_t probe_pkg(apus_handle_t server) {
  struct apus_pkg_attach_buffer_request attach = {.header = {.op = APUS_PKG_OP_ATTACH_BUFFER, .id = 1}, .buffer_size = 4096};
  memcpy(request, &attach, sizeof attach);
  int64_t shm = apus_shm_create(4096);  /* every right: the probe's buffer must attach */
  if (apus_is_error(shm)) return shm;
  uint32_t sent = (uint32_t)shm;
  int64_t attached = exchange(server, sizeof attach, &sent, 1);
  if (attached != 0) return attached;
  struct apus_pkg_list_request list = {.header = {.op = APUS_PKG_OP_LIST, .id = 1}, .buffer_offset = 0, .buffer_len = 64};
  memcpy(request, &list, sizeof list);
  return exchange(server, sizeof list, NULL, 0);
}

static int64_t probe_net(apus_handle_t server) {
  struct apus_net_info_request info = {.header = {.op = APUS_NET_OP_INFO, .id = 1}};
  memcpy(request, &info, sizeof info);
  return exchange(server, sizeof info, NULL, 0);
}

static void fuzz(const struct apus_fuzz_protocol *protocol, apus_handle_t server, probe_fn probe, uint64_t messages) {
  uint64_t served = 0, refused = 0;
  for (uint64_t n = 0; n < messages; n++) {
    int known = pick(5) != 0;
    const struct apus_fuzz_op *op = &protocol->ops[pick(protocol->op_count)];
    uint32_t code = known ? op->code : (uint32_t)(pick(2) ? 100 + pick(100) : rnd());
    uint64_t size = known ? op->request_size : sizeof(struct apus_msg_header) + 8 * pick(8);
    uint64_t length = size;
    switch (pick(6)) {
    case 0: length = pick(size); break;                                       /* short */
    case 1: length = size + 1 + pick(sizeof request - size - 1); break;       /* over-long */
    default: break;
    }
    if (known && op->waits && length >= size) length = pick(size); /* never a request that may wait */
    /* Fields: mostly small numbers and zeros (offsets, counts, flags that could be
     * right), sometimes anything. */
    for (uint64_t i = 0; i < sizeof request; i += 8) {
      uint64_t value = pick(3) == 0 ? rnd() : pick(3) == 0 ? 0 : pick(4096);
      memcpy(request + i, &value, 8);
    }
    struct apus_msg_header header = {.op = code, .status = (uint32_t)(pick(4) == 0 ? rnd() : 0), .id = rnd()};
    memcpy(request, &header, sizeof header);
    uint32_t handles[4];
    uint64_t count = 0;
    uint64_t handle_choice = pick(6);
    if (handle_choice == 1) {
      count = 1 + pick(4);
      for (uint64_t i = 0; i < count; i++) handles[i] = i == 0 ? fresh_shm() : (uint32_t)rnd();
    } else if (handle_choice == 0 || (known && strcmp(op->name, "attach_buffer") == 0 && handle_choice < 4)) {
      handles[count++] = fresh_shm();
    }
    int64_t status = exchange(server, length, handles, count);
    if (trace_handles && n % 500 == 0) {
      /* How many handle slots are free: make endpoints until the table is full. */
      int64_t made[130];
      int free_slots = 0;
      while (free_slots < 130 && !apus_is_error(made[free_slots] = apus_endpoint_create())) free_slots++;
      for (int i = 0; i < free_slots; i++) apus_handle_close((apus_handle_t)made[i]);
      printf("PROTOFUZZ: %s #%lu: %d handle slots free\n", protocol->name, n, free_slots);
    }
    /* Handles the send did not move (it failed) are ours to close. */
    if (status < 0) for (uint64_t i = 0; i < count; i++) apus_handle_close(handles[i]);
    uint64_t allowed = known ? op->statuses : 0;
    if (!known) {
      for (uint32_t i = 0; i < protocol->op_count; i++)
        if (protocol->ops[i].code == code) allowed = protocol->ops[i].statuses;
      if (!allowed) allowed = 1ull << protocol->bad_request;
    }
    if (status == -(int64_t)APUS_ERR_BAD_HANDLE || status == -(int64_t)APUS_ERR_ACCESS_DENIED) continue;  /* our own bad handles: never sent */
    if (status < 0) {
      findings++;
      printf("PROTOFUZZ: FINDING %s message #%lu op=%u length=%lu: the call failed (%ld)\n", protocol->name, n, code, length, status);
      return;
    }
    if (status >= 64 || !(allowed & (1ull << status))) {
      findings++;
      printf("PROTOFUZZ: FINDING %s message #%lu op=%u (%s) length=%lu handles=%lu: status %ld, which the spec does not declare\n",
             protocol->name, n, code, known ? op->name : "unknown", length, count, status);
    }
    if (status == 0) served++; else refused++;
    int64_t alive = probe(server);
    if (alive != 0) {
      findings++;
      printf("PROTOFUZZ: FINDING %s no longer serves a well-formed request after message #%lu (status %ld)\n", protocol->name, n, alive);
      return;
    }
  }
  printf("PROTOFUZZ: %s: %lu messages, %lu answered ok, %lu refused, all with declared statuses\n", protocol->name, messages, served, refused);
}

int main(int argc, char **argv) {
  test_name = "PROTOFUZZ";
  uint64_t seed = 1, messages = 1000;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "seed=", 5) == 0) seed = number_after(argv[i] + 5);
    if (strncmp(argv[i], "messages=", 9) == 0) messages = number_after(argv[i] + 9);
    if (strncmp(argv[i], "only=", 5) == 0) only = argv[i] + 5;
    if (strcmp(argv[i], "slots") == 0) trace_handles = 1;
  }
  state = seed * 0x9e3779b97f4a7c15ull | 1;
  for (int p = 0; p < APUS_FUZZ_PROTOCOL_COUNT; p++) {
    const struct apus_fuzz_protocol *protocol = &apus_fuzz_protocols[p];
    apus_handle_t server = 0;
    probe_fn probe = NULL;
    if (only && strcmp(only, protocol->name) != 0) continue;
    if (strcmp(protocol->name, "registry") == 0) {
      server = REGISTRY_HANDLE;
      probe = probe_registry;
      /* A name of our own for the probe to look up (we hold the registry with manage). */
      int64_t mine = apus_endpoint_create();
      if (apus_is_error(mine) || registry_add(REGISTRY_HANDLE, "protofuzz", (apus_handle_t)mine) != 0) {
        printf("PROTOFUZZ: cannot register a name for the probe\n");
        return 1;
      }
    } else if (strcmp(protocol->name, "block") == 0) {
      if (registry_lookup(REGISTRY_HANDLE, "block1", 0, &server) != 0) continue;
      probe = probe_block;
    } else if (strcmp(protocol->name, "fs") == 0) {
      if (registry_lookup(REGISTRY_HANDLE, "fs", 0, &server) != 0) continue;
      probe = probe_fs;
    } else if (strcmp(protocol->name, "pkg") == 0) {
      if (registry_lookup(REGISTRY_HANDLE, "pkg", 0, &server) != 0) continue;
      probe = probe_pkg;
    } else if (strcmp(protocol->name, "net") == 0) {
      if (registry_lookup(REGISTRY_HANDLE, "net0", 0, &server) != 0) continue;
      probe = probe_net;
    } else {
      continue;
    }
    fuzz(protocol, server, probe, messages);
  }
  printf("PROTOFUZZ: seed=%lu messages=%lu findings=%lu\n", seed, messages, findings);
  return findings != 0;
}
