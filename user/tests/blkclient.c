/* A block protocol client in a process of its own, against blkdevd (block0), one case
 * per run (argv[1]):
 *   identify   info: block size, count, flags, generation
 *   rw         4 threads write a pattern over 8 MiB (several requests in flight),
 *              flush, read it all back and check every byte and a hash; the pytest
 *              test then finds the same bytes in the image on the host
 *   bad        every malformed request gets the spec's status; a good one still works
 *   ro         a read-only disk refuses writes and serves reads
 *   grants     without a device handle: no BAR, no interrupt, no DMA memory
 *   stream     reads and writes until the server goes (its crash-after test hook)
 *   ioerror    the disk fails reads of sector 4096 (QEMU's blkdebug): io_error for
 *              them, and the server goes on
 *   flood      a child (case flood-child) floods blkdevd with barrier reads from 60
 *              threads: past requests_per_client it gets busy; meanwhile this
 *              process is served (reads, an attach: blkdevd's handle table has room);
 *              killed with requests waiting and at the device, it leaves nothing
 *              behind (kernel objects) and this process is served after
 * The pattern: the 8-byte word at disk byte offset o is mix(o ^ SEED) (tests/drivers
 * recompute it on the host). */
#include <block_client.h>
#include <registry.h>
#include "testlib.h"

#define SEED 0x41707573424c4b30ull /* "ApusBLK0" */
#define REGION_LBA 2048ull         /* 1 MiB in */
#define REGION_BYTES (8ull << 20)
#define THREADS 4
#define CHUNK (64u << 10)          /* one request: 128 blocks */
#define BUFFER_BYTES (4ull << 20)  /* 1 MiB of the buffer per thread */

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static apus_handle_t server;
static uint8_t *buffer;
static struct apus_block_info_reply disk;

static int connect(void) {
  int64_t status = registry_lookup(REGISTRY_HANDLE, "block0", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &server);
  if (status != 0) {
    printf("BLK: lookup block0 failed: %ld\n", status);
    return 0;
  }
  struct block_client client = {server, 1};
  return block_info(&client, &disk) == APUS_BLOCK_STATUS_OK;
}

static int attach(struct block_client *client, uint64_t size) {
  int64_t shm = apus_shm_create(size);
  if (apus_is_error(shm)) return 0;
  int64_t mine = apus_handle_duplicate((apus_handle_t)shm, APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP);
  int64_t mapped = apus_shm_map((apus_handle_t)mine, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  if (apus_is_error(mine) || apus_is_error(mapped)) return 0;
  buffer = (uint8_t *)(uintptr_t)mapped;
  uint64_t generation = 0;
  int64_t status = block_attach(client, (apus_handle_t)shm, size, &generation);
  expect_eq("attach_buffer", status, APUS_BLOCK_STATUS_OK);
  expect_eq("attach's generation is info's", (int64_t)generation, (int64_t)disk.generation);
  return status == APUS_BLOCK_STATUS_OK;
}

/* --- rw --- */

static volatile int thread_failures, threads_done;
static volatile uint64_t thread_hash[THREADS];

static void fill(uint8_t *at, uint64_t disk_offset, uint32_t bytes) {
  for (uint32_t i = 0; i < bytes; i += 8) *(uint64_t *)(at + i) = mix((disk_offset + i) ^ SEED);
}

static void rw_thread(uint64_t index) {
  struct block_client client = {server, 1};
  uint8_t *mine = buffer + index * (BUFFER_BYTES / THREADS);
  uint64_t share = REGION_BYTES / THREADS, first = REGION_LBA * 512 + index * share;
  uint64_t hash = 0xcbf29ce484222325ull;
  for (uint64_t at = first; at < first + share; at += CHUNK) {
    fill(mine, at, CHUNK);
    if (block_write(&client, at / 512, CHUNK / 512, 0, (uint64_t)(mine - buffer)) != 0) thread_failures++;
  }
  if (block_flush(&client, 0) != 0) thread_failures++;
  for (uint64_t at = first; at < first + share; at += CHUNK) {
    memset(mine, 0, CHUNK);
    if (block_read(&client, at / 512, CHUNK / 512, 0, (uint64_t)(mine - buffer)) != 0) thread_failures++;
    for (uint32_t i = 0; i < CHUNK; i += 8) {
      uint64_t word = *(uint64_t *)(mine + i);
      if (word != mix((at + i) ^ SEED)) thread_failures++;
      hash = (hash ^ word) * 0x100000001b3ull;
    }
  }
  thread_hash[index] = hash;
  __atomic_add_fetch(&threads_done, 1, __ATOMIC_SEQ_CST);
}

static int case_rw(void) {
  struct block_client client = {server, 1};
  if (!attach(&client, BUFFER_BYTES)) return finish("rw");
  uint64_t start = apus_time_now();
  int64_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) threads[i] = start_thread(rw_thread, (uint64_t)i);
  for (int i = 0; i < THREADS; i++) {
    expect_true("start a thread", !apus_is_error(threads[i]));
  }
  while (threads_done < THREADS) apus_yield();
  uint64_t hash = 0;
  for (int i = 0; i < THREADS; i++) hash ^= thread_hash[i];
  expect_eq("bytes that came back wrong", thread_failures, 0);
  uint64_t ms = (apus_time_now() - start) / 1000000;
  if (test_failures == 0)
    printf("BLK: rw ok bytes=%lu hash=%016lx threads=%d (%lu ms)\n", (uint64_t)REGION_BYTES, hash, THREADS, ms);
  return finish("rw");
}

/* --- bad --- */

static int case_bad(void) {
  struct block_client client = {server, 1};
  uint64_t blocks = disk.block_count;
  expect_eq("read before attach", block_read(&client, 0, 1, 0, 0), APUS_BLOCK_STATUS_NO_BUFFER);
  expect_eq("write before attach", block_write(&client, 0, 1, 0, 0), APUS_BLOCK_STATUS_NO_BUFFER);
  struct apus_block_attach_buffer_request naked;
  memset(&naked, 0, sizeof naked);
  naked.header.op = APUS_BLOCK_OP_ATTACH_BUFFER;
  naked.buffer_size = 4096;
  expect_eq("attach without a handle", block_raw(&client, &naked, sizeof naked, NULL, 0), APUS_BLOCK_STATUS_BAD_REQUEST);
  int64_t small = apus_shm_create(4096);
  expect_eq("attach more than the shm holds", block_attach(&client, (apus_handle_t)small, 8192, NULL), APUS_BLOCK_STATUS_BAD_REQUEST);
  int64_t endpoint = apus_endpoint_create();
  expect_eq("attach an endpoint as the buffer", block_attach(&client, (apus_handle_t)endpoint, 4096, NULL),
            APUS_BLOCK_STATUS_BAD_REQUEST);
  if (!attach(&client, 65536)) return finish("bad requests");
  expect_eq("count 0", block_read(&client, 0, 0, 0, 0), APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("count over the maximum", block_read(&client, 0, APUS_BLOCK_MAX_BLOCKS_PER_REQUEST + 1, 0, 0),
            APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("unknown flag", block_read(&client, 0, 1, 1u << 7, 0), APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("buffer range past the buffer", block_read(&client, 0, 2, 0, 65536 - 512), APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("buffer offset huge", block_write(&client, 0, 1, 0, 1ull << 63), APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("count larger than the buffer", block_read(&client, 0, 256, 0, 0), APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("lba at the end", block_read(&client, blocks, 1, 0, 0), APUS_BLOCK_STATUS_OUT_OF_RANGE);
  expect_eq("range over the end", block_write(&client, blocks - 1, 2, 0, 0), APUS_BLOCK_STATUS_OUT_OF_RANGE);
  expect_eq("lba that wraps", block_read(&client, ~0ull, 2, 0, 0), APUS_BLOCK_STATUS_OUT_OF_RANGE);
  expect_eq("flush with an unknown flag", block_flush(&client, 1u << 9), APUS_BLOCK_STATUS_BAD_REQUEST);
  struct apus_msg_header unknown = {.op = 99, .status = 0, .id = 7};
  expect_eq("unknown op", block_raw(&client, &unknown, sizeof unknown, NULL, 0), APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("short read request", block_raw(&client, &(struct apus_msg_header){.op = APUS_BLOCK_OP_READ}, 16, NULL, 0),
            APUS_BLOCK_STATUS_BAD_REQUEST);
  expect_eq("a good read after all that", block_read(&client, blocks - 1, 1, 0, 0), APUS_BLOCK_STATUS_OK);
  expect_eq("a barrier FUA write", block_write(&client, blocks - 1, 1, APUS_BLOCK_REQUEST_FLAGS_FUA | APUS_BLOCK_REQUEST_FLAGS_BARRIER, 0),
            APUS_BLOCK_STATUS_OK);
  if (test_failures == 0) printf("BLK: bad requests ok\n");
  return finish("bad requests");
}

/* --- ro --- */

static int case_ro(void) {
  struct block_client client = {server, 1};
  expect_true("info says read-only", (disk.flags & APUS_BLOCK_DEVICE_FLAGS_READ_ONLY) != 0);
  if (!attach(&client, 65536)) return finish("read-only");
  expect_eq("write", block_write(&client, 0, 1, 0, 0), APUS_BLOCK_STATUS_READ_ONLY);
  expect_eq("read", block_read(&client, 0, 8, 0, 0), APUS_BLOCK_STATUS_OK);
  uint64_t word = *(uint64_t *)buffer;
  expect_eq("the image's first word", (int64_t)word, (int64_t)mix(0 ^ SEED));
  if (test_failures == 0) printf("BLK: read-only ok\n");
  return finish("read-only");
}

/* --- grants --- */

static int case_grants(void) {
  /* This process holds only the registry endpoint (1), the console (2) and what it
   * makes itself. */
  struct apus_dma_placement placed;
  struct apus_device_info info;
  expect_eq("open a device through the registry handle", apus_device_open(1, 0, &info), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("map a BAR of the registry handle", apus_device_map_bar(1, 4, 0), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("map a BAR of a handle it lacks", apus_device_map_bar(9, 4, 0), ERR(APUS_ERR_BAD_HANDLE));
  int64_t endpoint = apus_endpoint_create();
  expect_eq("bind an interrupt of the endpoint", apus_device_irq_bind((apus_handle_t)endpoint, (apus_handle_t)endpoint, 0),
            ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("bind an interrupt of a handle it lacks", apus_device_irq_bind(10, (apus_handle_t)endpoint, 0), ERR(APUS_ERR_BAD_HANDLE));
  expect_eq("acknowledge an interrupt", apus_device_irq_ack(1), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("DMA memory of the registry handle", apus_device_dma_alloc(1, 4096, &placed), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("DMA memory of a handle it lacks", apus_device_dma_alloc(9, 4096, &placed), ERR(APUS_ERR_BAD_HANDLE));
  expect_eq("configuration space of the endpoint", apus_device_config_read((apus_handle_t)endpoint, 0, (uint8_t *)&info, 4),
            ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("device_info of the endpoint", apus_device_info((apus_handle_t)endpoint, &info), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  if (test_failures == 0) printf("BLK: grants refused ok\n");
  return finish("grants");
}

/* --- stream --- */

static volatile uint64_t streamed;
static volatile int stream_errors;

static void stream_thread(uint64_t index) {
  struct block_client client = {server, 1};
  uint8_t *mine = buffer + index * CHUNK;
  for (;;) {
    int64_t status = (streamed & 1) ? block_read(&client, 4096 + index * 128, 128, 0, (uint64_t)(mine - buffer))
                                    : block_write(&client, 4096 + index * 128, 128, 0, (uint64_t)(mine - buffer));
    if (status != 0) {
      stream_errors = (int)status;
      break;
    }
    __atomic_add_fetch(&streamed, 1, __ATOMIC_SEQ_CST);
  }
  __atomic_add_fetch(&threads_done, 1, __ATOMIC_SEQ_CST);
}

static int case_stream(void) {
  struct block_client client = {server, 1};
  if (!attach(&client, THREADS * CHUNK)) return finish("stream");
  for (int i = 0; i < THREADS; i++) expect_true("start a thread", !apus_is_error(start_thread(stream_thread, (uint64_t)i)));
  while (threads_done < THREADS) apus_yield();
  expect_eq("how the stream ended", stream_errors, ERR(APUS_ERR_PEER_CLOSED));
  printf("BLK: server gone after %lu requests (error %d)\n", streamed, -stream_errors);
  return finish("stream");
}

/* --- ioerror --- */

static int case_ioerror(void) {
  struct block_client client = {server, 1};
  if (!attach(&client, 65536)) return finish("io errors");
  expect_eq("a read of the failing sector", block_read(&client, 4096, 1, 0, 0), APUS_BLOCK_STATUS_IO_ERROR);
  expect_eq("a read that covers it", block_read(&client, 4090, 16, 0, 0), APUS_BLOCK_STATUS_IO_ERROR);
  expect_eq("a read elsewhere", block_read(&client, 0, 16, 0, 0), APUS_BLOCK_STATUS_OK);
  expect_eq("a write there", block_write(&client, 4096, 1, 0, 0), APUS_BLOCK_STATUS_OK);
  if (test_failures == 0) printf("BLK: io errors ok\n");
  return finish("io errors");
}

/* --- flood --- */

#define FLOOD_THREADS 60 /* a process may have 64 */
#define CONTROL ((apus_handle_t)2) /* flood-child: the parent's control endpoint */

static volatile uint64_t flood_ok, flood_busy, flood_other;

static void flood_thread(uint64_t index) {
  struct block_client client = {server, 1};
  for (;;) {
    int64_t status = block_read(&client, index % 64, 1, APUS_BLOCK_REQUEST_FLAGS_BARRIER, (index % 64) * 512);
    __atomic_add_fetch(status == APUS_BLOCK_STATUS_OK ? &flood_ok : status == APUS_BLOCK_STATUS_BUSY ? &flood_busy : &flood_other,
                       1, __ATOMIC_SEQ_CST);
    if (status != APUS_BLOCK_STATUS_OK) apus_yield();
  }
}

/* The child: handle 1 is blkdevd, handle 2 the parent's control endpoint. Floods,
 * then reports (a call the parent never answers: it kills the child) 1 when reads
 * were served, + 2 when some were busy, + 4 when any got another status, + 8 when
 * not every thread started. */
static int case_flood_child(void) {
  server = 1;
  struct block_client client = {server, 1};
  if (block_info(&client, &disk) != APUS_BLOCK_STATUS_OK || !attach(&client, 65536)) return 1;
  int started = 0;
  for (int i = 0; i < FLOOD_THREADS; i++)
    if (!apus_is_error(start_thread(flood_thread, (uint64_t)i))) started++;
  uint64_t give_up = (uint64_t)apus_time_now() + 10000000000ull;
  while ((flood_ok == 0 || flood_busy == 0) && (uint64_t)apus_time_now() < give_up) apus_yield();
  uint64_t report = (flood_ok ? 1 : 0) + (flood_busy ? 2 : 0) + (flood_other ? 4 : 0) + (started < FLOOD_THREADS ? 8 : 0);
  uint8_t reply[8];
  struct apus_ipc_recv_info info;
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)&report, .len = sizeof report, .reply = (uint64_t)(uintptr_t)reply, .reply_cap = sizeof reply,
  };
  apus_ipc_call(CONTROL, &args, &info);
  return 0;
}

static int case_flood(void) {
  struct block_client client = {server, 1};
  /* The buffer, kept with the transfer right so it can be attached again. */
  int64_t shm = apus_shm_create(65536);
  int64_t kept = apus_handle_duplicate((apus_handle_t)shm, APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP | APUS_RIGHT_TRANSFER);
  expect_true("a buffer", !apus_is_error(shm) && !apus_is_error(kept) &&
                          !apus_is_error(apus_shm_map((apus_handle_t)kept, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE)));
  expect_eq("attach", block_attach(&client, (apus_handle_t)shm, 65536, NULL), APUS_BLOCK_STATUS_OK);
  apus_handle_t control = (apus_handle_t)apus_endpoint_create();
  struct apus_system_info before, after;
  apus_system_info(&before);

  struct apus_handle_grant grants[2] = {
    {server, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
    {control, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
  };
  int64_t child = start_case_with("tests/blkclient", "flood-child", grants, 2);
  expect_true("start the flooding child", !apus_is_error(child));
  uint64_t report = 0;
  struct apus_ipc_recv_info info;
  expect_eq("its report", apus_ipc_recv(control, (uint8_t *)&report, sizeof report, NULL, 0, &info), sizeof report);
  int64_t answer = apus_ipc_reply_detach();  /* never answered: closed after the kill */
  expect_eq("its reads were served, past requests_per_client busy, nothing else", (int64_t)report, 3);

  /* The child floods on: its job's share (ours too: children count as their parent,
   * kernel/object/Jobs.swift) is used up, so blkdevd refuses more from this job
   * rather than fill its own tables; clients of other jobs (fsd) are served meanwhile
   * (tests/attack shows another job served while one job's children hold a share). */
  int64_t during = block_read(&client, 100, 8, 0, 0);
  expect_true("our own read during the flood: served or busy, never a hang",
              during == APUS_BLOCK_STATUS_OK || during == APUS_BLOCK_STATUS_BUSY);

  /* Killed with requests waiting and at the device. */
  expect_eq("kill the child", apus_process_kill((apus_handle_t)child), 0);
  expect_eq("it was killed", end_status(child), 100 + APUS_EXIT_REASON_KILLED);
  if (!apus_is_error(answer)) apus_handle_close((apus_handle_t)answer);
  /* Its notice comes before these: its requests and buffer are gone. */
  for (uint32_t i = 0; i < APUS_BLOCK_REQUESTS_PER_CLIENT + 4; i++)
    expect_eq("served after the kill", block_read(&client, (uint64_t)i, 1, APUS_BLOCK_REQUEST_FLAGS_BARRIER, 0), APUS_BLOCK_STATUS_OK);
  apus_system_info(&after);
  expect_eq("and attaches its buffer again (a handle blkdevd must take)",
            block_attach(&client, (apus_handle_t)apus_handle_duplicate((apus_handle_t)kept, APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP | APUS_RIGHT_TRANSFER),
                         65536, NULL),
            APUS_BLOCK_STATUS_OK);
  expect_eq("and writes", block_write(&client, 200, 8, APUS_BLOCK_REQUEST_FLAGS_FUA, 0), APUS_BLOCK_STATUS_OK);
  expect_eq("no kernel object left behind (reply capabilities, the child's buffer)", (int64_t)after.objects, (int64_t)before.objects);
  apus_handle_close(control);
  if (test_failures == 0) printf("BLK: flood ok (a dead client's requests freed, another client served)\n");
  return finish("flood");
}

int main(int argc, char **argv) {
  test_name = "BLKCLIENT";
  const char *which = argc > 1 ? argv[1] : "identify";
  if (strcmp(which, "grants") == 0) return case_grants();
  if (strcmp(which, "flood-child") == 0) return case_flood_child();
  if (!connect()) {
    printf("BLK: no block0 to talk to\n");
    return 1;
  }
  if (strcmp(which, "identify") == 0) {
    printf("BLK: info block_size=%u blocks=%lu flags=%u generation=%lu\n", disk.block_size, disk.block_count, disk.flags,
           disk.generation);
    return 0;
  }
  if (strcmp(which, "rw") == 0) return case_rw();
  if (strcmp(which, "bad") == 0) return case_bad();
  if (strcmp(which, "ro") == 0) return case_ro();
  if (strcmp(which, "stream") == 0) return case_stream();
  if (strcmp(which, "ioerror") == 0) return case_ioerror();
  if (strcmp(which, "flood") == 0) return case_flood();
  printf("BLKCLIENT: unknown case %s\n", which);
  return 2;
}
