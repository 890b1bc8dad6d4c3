/* M4's queued IPC and shared memory (ABI v0's endpoint_create, ipc_send, ipc_recv,
 * shm_create, shm_map) and handles passed to a child (process_spawn_handles). Run
 * with no argument it runs every check, starting copies of itself (tests/ipc CASE)
 * as peers; a peer's handles 1, 2, ... are the ones its parent granted, in order.
 * Prints IPC: ... ok only after every answer was checked. */
#include "testlib.h"

#define PAGE 4096ull
#define RW (APUS_VM_PROT_READ | APUS_VM_PROT_WRITE)
#define MIB (1ull << 20)

static const char self[] = "tests/ipc";

static int64_t send_bytes(int64_t endpoint, const void *bytes, uint64_t length) {
  return apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)bytes, length, NULL, 0);
}

static int64_t receive(int64_t endpoint, void *buffer, uint64_t capacity, uint32_t *handles, uint64_t handle_capacity,
                       struct apus_ipc_recv_info *info) {
  return apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)buffer, capacity, handles, handle_capacity, info);
}

/* Starts a peer (a copy of this program running case `name`) with `grants`. */
static int64_t start_peer(const char *name, const struct apus_handle_grant *grants, uint64_t count) {
  return start_case_with(self, name, grants, count);
}

/* --- peers -------------------------------------------------------------------------- */

/* Handle 1: requests (read); handle 2: replies (write). Answers each request with its
 * bytes reversed, until a zero-length request. */
static int peer_pong(void) {
  char buffer[4096];
  struct apus_ipc_recv_info info;
  for (;;) {
    int64_t got = receive(1, buffer, sizeof buffer, NULL, 0, &info);
    if (got < 0) return 2;
    if (got == 0) return 0;
    for (int64_t i = 0; i < got / 2; i++) {
      char swap = buffer[i];
      buffer[i] = buffer[got - 1 - i];
      buffer[got - 1 - i] = swap;
    }
    if (send_bytes(2, buffer, (uint64_t)got) != 0) return 3;
  }
}

/* Handle 1: requests, one carrying an shm handle; handle 2: replies; handle 3: the
 * same shm granted read-only (read | map), which must not map writable. Maps the
 * message's handle, sums the memory and replies {status, sum}; always replies, so a
 * failure here cannot leave the parent waiting. */
static int peer_checksum(void) {
  uint32_t handles[1];
  struct apus_ipc_recv_info info;
  uint64_t size = 0, reply[2] = {0, 0};
  if (apus_shm_map(3, 0, RW) != ERR(APUS_ERR_ACCESS_DENIED)) reply[0] = 1;
  else if (apus_is_error(apus_shm_map(3, 0, APUS_VM_PROT_READ))) reply[0] = 2;
  else if (receive(1, &size, sizeof size, handles, 1, &info) != sizeof size || info.handle_count != 1) reply[0] = 3;
  else {
    int64_t mapped = apus_shm_map(handles[0], 0, APUS_VM_PROT_READ);
    if (apus_is_error(mapped)) {
      reply[0] = 4;
    } else {
      const uint64_t *words = (const uint64_t *)(uintptr_t)mapped;
      for (uint64_t i = 0; i < size / 8; i++) reply[1] = reply[1] * 31 + words[i];
    }
  }
  return send_bytes(2, reply, sizeof reply) == 0 ? (int)reply[0] : 5;
}

/* Handle 1: an endpoint nobody reads. Sends until the queue is full and the sender
 * blocks (the parent then kills it), each message carrying a fresh endpoint handle. */
static int peer_flood(void) {
  for (int i = 0; i < 10000; i++) {
    int64_t carried = apus_endpoint_create();
    if (apus_is_error(carried)) return 2;
    uint32_t handle = (uint32_t)carried;
    if (apus_ipc_send(1, (const uint8_t *)&i, sizeof i, &handle, 1) != 0) return 3;
  }
  return 0;  /* not reached: the queue holds 8 */
}

/* Handle 1: an endpoint nobody writes to. Blocks in ipc_recv until killed. */
static int peer_wait_forever(void) {
  char byte;
  struct apus_ipc_recv_info info;
  receive(1, &byte, 1, NULL, 0, &info);
  return 2;  /* not reached */
}

/* --- checks ------------------------------------------------------------------------- */

static void basics_in_one_process(void) {
  int64_t endpoint = apus_endpoint_create();
  expect_true("endpoint_create", endpoint > 0);
  char buffer[64];
  struct apus_ipc_recv_info info;
  expect_eq("send", send_bytes(endpoint, "hello", 5), 0);
  expect_eq("recv into 2 bytes", receive(endpoint, buffer, 2, NULL, 0, &info), ERR(APUS_ERR_BUFFER_TOO_SMALL));
  expect_eq("recv after buffer_too_small: still queued", receive(endpoint, buffer, sizeof buffer, NULL, 0, &info), 5);
  expect_true("the bytes", memcmp(buffer, "hello", 5) == 0);
  expect_eq("sender is this process", (int64_t)info.sender > 0, 1);
  expect_eq("send 4097 bytes", send_bytes(endpoint, buffer, 4097), ERR(APUS_ERR_INVALID_ARGUMENT));
  uint32_t five[5] = {0};
  expect_eq("send 5 handles", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)buffer, 1, five, 5), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("send from unmapped memory", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)0x20000000ull, 8, NULL, 0), ERR(APUS_ERR_FAULT));
  expect_eq("send from kernel memory", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)0xffffffff80100000ull, 8, NULL, 0), ERR(APUS_ERR_FAULT));
  expect_eq("send a bad handle", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)buffer, 1, five, 1), ERR(APUS_ERR_BAD_HANDLE));
  expect_eq("send one byte", send_bytes(endpoint, "x", 1), 0);
  expect_eq("recv into unmapped memory", receive(endpoint, (void *)0x20000000ull, 8, NULL, 0, &info), ERR(APUS_ERR_FAULT));
  expect_eq("...the message stayed queued", receive(endpoint, buffer, sizeof buffer, NULL, 0, &info), 1);

  /* Handles move: gone from the sender, usable by the receiver. */
  int64_t carried = apus_endpoint_create();
  uint32_t handle = (uint32_t)carried;
  expect_eq("send a handle", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)"h", 1, &handle, 1), 0);
  expect_eq("the sent handle left the table", apus_handle_close(handle), ERR(APUS_ERR_BAD_HANDLE));
  uint32_t got[4];
  expect_eq("recv with no room for its handle", receive(endpoint, buffer, sizeof buffer, got, 0, &info), ERR(APUS_ERR_BUFFER_TOO_SMALL));
  expect_eq("...says how many", info.handle_count, 1);
  expect_eq("recv the handle", receive(endpoint, buffer, sizeof buffer, got, 4, &info), 1);
  expect_eq("one handle came", info.handle_count, 1);
  expect_eq("it works", send_bytes(got[0], "y", 1), 0);
  expect_eq("and can be closed", apus_handle_close(got[0]), 0);

  /* A handle without the transfer right cannot leave. */
  int64_t child = apus_process_spawn((const uint8_t *)"tests/child", 11, NULL, 0);
  handle = (uint32_t)child;
  expect_eq("send a process handle (no transfer right)", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)"p", 1, &handle, 1),
            ERR(APUS_ERR_ACCESS_DENIED));
  struct apus_process_status status;
  expect_eq("...and it is still ours", apus_process_wait(handle, &status), 0);
  apus_handle_close(handle);

  /* An endpoint sent through itself, then closed: nothing may leak (the boot's MM
   * lines check). */
  uint32_t itself = (uint32_t)endpoint;
  expect_eq("send an endpoint through itself", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)"s", 1, &itself, 1),
            ERR(APUS_ERR_PEER_CLOSED));
  expect_eq("...it left the table", apus_handle_close((uint32_t)endpoint), ERR(APUS_ERR_BAD_HANDLE));

  /* handle_duplicate: a second handle with fewer rights; never more. */
  int64_t both = apus_endpoint_create();
  int64_t reader_only = apus_handle_duplicate((apus_handle_t)both, APUS_RIGHT_READ);
  expect_true("duplicate read-only", reader_only > 0 && reader_only != both);
  expect_eq("the duplicate cannot send", send_bytes(reader_only, "d", 1), ERR(APUS_ERR_ACCESS_DENIED));
  expect_eq("duplicate with more rights", apus_handle_duplicate((apus_handle_t)reader_only, APUS_RIGHT_READ | APUS_RIGHT_WRITE),
            ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("duplicate a bad handle", apus_handle_duplicate(0x4242, APUS_RIGHT_READ), ERR(APUS_ERR_BAD_HANDLE));
  expect_eq("send on the original", send_bytes(both, "d", 1), 0);
  expect_eq("close the original: no writer left", apus_handle_close((apus_handle_t)both), 0);
  expect_eq("the queued message still arrives", receive(reader_only, buffer, sizeof buffer, NULL, 0, &info), 1);
  expect_eq("then peer_closed", receive(reader_only, buffer, sizeof buffer, NULL, 0, &info), ERR(APUS_ERR_PEER_CLOSED));
  expect_eq("close the duplicate", apus_handle_close((apus_handle_t)reader_only), 0);

  /* A receiver blocked forever can be killed; grants never amplify rights. */
  int64_t lonely = apus_endpoint_create();
  struct apus_handle_grant grant = {(uint32_t)lonely, APUS_RIGHT_READ};
  int64_t reader = start_peer("wait", &grant, 1);
  expect_eq("kill a process blocked in ipc_recv", apus_process_kill((apus_handle_t)reader), 0);
  expect_eq("...it ends", end_status(reader), 100 + APUS_EXIT_REASON_KILLED);
  struct apus_handle_grant too_much = {(uint32_t)lonely, APUS_RIGHT_READ | APUS_RIGHT_MAP};  /* endpoints have no map */
  expect_eq("grant more rights than held", start_peer("wait", &too_much, 1), ERR(APUS_ERR_INVALID_ARGUMENT));

  /* peer_closed: no writer left and the queue empty; no reader left. */
  expect_eq("send to a queue only we read", send_bytes(lonely, "z", 1), 0);
  struct apus_handle_grant write_only = {(uint32_t)lonely, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER};
  int64_t holder = start_peer("wait", &write_only, 1);  /* blocks: no read right, so recv fails at once */
  expect_eq("the write-only peer's recv is refused", end_status(holder), 2);
  expect_eq("recv the queued byte", receive(lonely, buffer, sizeof buffer, NULL, 0, &info), 1);
  apus_handle_close((uint32_t)lonely);
}

static void ping_pong_between_processes(void) {
  int64_t requests = apus_endpoint_create(), replies = apus_endpoint_create();
  struct apus_handle_grant grants[2] = {{(uint32_t)requests, APUS_RIGHT_READ}, {(uint32_t)replies, APUS_RIGHT_WRITE}};
  int64_t peer = start_peer("pong", grants, 2);
  expect_true("start pong", peer > 0);
  char buffer[4096], expected[4096];
  struct apus_ipc_recv_info info;
  int wrong = 0;
  for (int round = 0; round < 1000; round++) {
    uint64_t length = 1 + (uint64_t)(round * 37) % 4096;
    for (uint64_t i = 0; i < length; i++) buffer[i] = (char)(round + i * 7);
    for (uint64_t i = 0; i < length; i++) expected[i] = buffer[length - 1 - i];
    if (send_bytes(requests, buffer, length) != 0) { wrong++; break; }
    if (receive(replies, buffer, sizeof buffer, NULL, 0, &info) != (int64_t)length || memcmp(buffer, expected, length) != 0) wrong++;
  }
  expect_eq("1000 requests answered exactly", wrong, 0);
  send_bytes(requests, "", 0);
  expect_eq("pong ended well", end_status(peer), 0);
  if (wrong == 0) printf("PING: ok\nPONG: ok\n");
  apus_handle_close((uint32_t)requests);
  apus_handle_close((uint32_t)replies);
}

static void shared_memory_between_processes(void) {
  int64_t shm = apus_shm_create(MIB);
  expect_true("shm_create 1 MiB", shm > 0);
  int64_t mapped = apus_shm_map((apus_handle_t)shm, 0, RW);
  expect_true("shm_map", mapped > 0);
  uint64_t *words = (uint64_t *)(uintptr_t)mapped;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < MIB / 8; i++) {
    words[i] = i * 0x9e3779b97f4a7c15ull;
    sum = sum * 31 + words[i];
  }
  int64_t requests = apus_endpoint_create(), replies = apus_endpoint_create();
  struct apus_handle_grant grants[3] = {{(uint32_t)requests, APUS_RIGHT_READ}, {(uint32_t)replies, APUS_RIGHT_WRITE},
                                        {(uint32_t)shm, APUS_RIGHT_READ | APUS_RIGHT_MAP}};
  int64_t peer = start_peer("checksum", grants, 3);
  /* The shm handle goes by message (it leaves our table; our mapping stays). */
  uint64_t size = MIB;
  uint32_t handle = (uint32_t)shm;
  expect_eq("send the shm handle", apus_ipc_send((apus_handle_t)requests, (const uint8_t *)&size, sizeof size, &handle, 1), 0);
  uint64_t answer[2] = {9, 0};
  struct apus_ipc_recv_info info;
  expect_eq("checksum reply", receive(replies, answer, sizeof answer, NULL, 0, &info), (int64_t)sizeof answer);
  expect_eq("checksum peer's status", (int64_t)answer[0], 0);
  expect_eq("checksum peer ended well", end_status(peer), 0);
  if (answer[0] == 0 && answer[1] == sum) printf("SHM: checksum ok\n");
  expect_true("checksum matches", answer[1] == sum);
  expect_eq("our mapping still works after the handle left", (int64_t)(words[12345] == 12345 * 0x9e3779b97f4a7c15ull), 1);
  apus_vm_unmap((uint64_t)mapped, MIB);
  apus_handle_close((uint32_t)requests);
  apus_handle_close((uint32_t)replies);
}

/* A full queue blocks the sender; draining one message wakes it. */
static volatile int sent_count;
static int64_t full_endpoint;

static void send_nine(uint64_t unused) {
  (void)unused;
  for (int i = 0; i < 9; i++) {
    if (send_bytes(full_endpoint, &i, sizeof i) != 0) break;
    sent_count = i + 1;
  }
  apus_thread_exit(0);
}

static void full_queue_blocks(void) {
  full_endpoint = apus_endpoint_create();
  start_thread(send_nine, 0);
  for (int i = 0; i < 200; i++) apus_yield();
  expect_eq("sender blocked after the queue's 8", sent_count, 8);
  int value;
  struct apus_ipc_recv_info info;
  receive(full_endpoint, &value, sizeof value, NULL, 0, &info);
  for (int i = 0; i < 200 && sent_count < 9; i++) apus_yield();
  expect_eq("draining one woke it", sent_count, 9);
  for (int i = 0; i < 8; i++) receive(full_endpoint, &value, sizeof value, NULL, 0, &info);
  expect_eq("the last message", value, 8);
  apus_handle_close((uint32_t)full_endpoint);
}

/* A receiver that never reads: the sender blocks at the queue's depth, holding
 * bounded kernel memory, and dies when killed; its handles in flight are freed. */
static void flood_is_bounded(void) {
  int64_t sink = apus_endpoint_create();
  struct apus_handle_grant grant = {(uint32_t)sink, APUS_RIGHT_WRITE};
  int64_t peer = start_peer("flood", &grant, 1);
  for (int i = 0; i < 300; i++) apus_yield();
  expect_eq("kill the blocked flooder", apus_process_kill((apus_handle_t)peer), 0);
  expect_eq("...it ends", end_status(peer), 100 + APUS_EXIT_REASON_KILLED);
  apus_handle_close((uint32_t)sink);  /* drops 8 messages with their endpoints */
}

/* Exact leak check material: many exchanges and shm cycles (the boot's MM lines). */
static void churn(void) {
  int64_t endpoint = apus_endpoint_create();
  int wrong = 0;
  for (int i = 0; i < 10000; i++) {
    int value = i, back = -1;
    struct apus_ipc_recv_info info;
    if (send_bytes(endpoint, &value, sizeof value) != 0) wrong++;
    if (receive(endpoint, &back, sizeof back, NULL, 0, &info) != sizeof back || back != i) wrong++;
  }
  expect_eq("10,000 send/recv exchanges", wrong, 0);
  apus_handle_close((uint32_t)endpoint);
  for (int i = 0; i < 1000; i++) {
    int64_t shm = apus_shm_create(4 * PAGE);
    int64_t at = apus_shm_map((apus_handle_t)shm, 0, RW);
    if (apus_is_error(shm) || apus_is_error(at)) { wrong++; break; }
    ((volatile uint8_t *)(uintptr_t)at)[i % (4 * PAGE)] = 1;
    if (i % 2) {  /* both orders: unmap then close, close then unmap */
      apus_vm_unmap((uint64_t)at, 4 * PAGE);
      apus_handle_close((uint32_t)shm);
    } else {
      apus_handle_close((uint32_t)shm);
      apus_vm_unmap((uint64_t)at, 4 * PAGE);
    }
  }
  expect_eq("1,000 shm create/map/unmap/close cycles", wrong, 0);
}

int main(int argc, char **argv) {
  test_name = "IPC";
  if (argc > 1) {
    if (strcmp(argv[1], "pong") == 0) return peer_pong();
    if (strcmp(argv[1], "checksum") == 0) return peer_checksum();
    if (strcmp(argv[1], "flood") == 0) return peer_flood();
    if (strcmp(argv[1], "wait") == 0) return peer_wait_forever();
    return 99;
  }
  basics_in_one_process();
  ping_pong_between_processes();
  shared_memory_between_processes();
  full_queue_blocks();
  flood_is_bounded();
  churn();
  return finish("queued IPC and shared memory");
}
