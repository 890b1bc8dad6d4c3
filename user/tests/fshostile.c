/* fsd against a hostile client (issue 21), an ordinary program, one case per run:
 *   huge           fs_truncate to 2^64 - 1 and writes that end past 2^64 or past the
 *                  largest file ext2 holds, five times each (the supervisor's give-up
 *                  count): each is bad_request, and the file is as it was
 *   readdir DIR    a second thread rewrites the readdir area of the shared buffer
 *                  (every word an inode number with record_len 0) while the main
 *                  thread lists DIR again and again: every listing answers
 *   sparse OFFSET  a 1-byte write at OFFSET, truncate to 0; the write again, unlink:
 *                  each costs what is allocated (a few blocks), not OFFSET
 *   edge MAX       MAX is the largest file the filesystem holds (the test computes it
 *                  as Linux does): a byte at MAX - 1 and a truncate to MAX are ok, a
 *                  byte at MAX and a truncate to MAX + 1 are bad_request
 *   cut PATH       PATH's size on the disk is damaged (near 2^64): opening it with
 *                  truncate, then unlinking it, answer a status
 *                  ("FSHOSTILE: cut open=.. unlink=..")
 *   many           opens /hello.txt open_max times; one more is too_many_open (and a
 *                  create then creates nothing); a close makes room; then it exits
 *                  with open_max files open, which fsd must free when it ends
 * Each prints "FSHOSTILE: CASE ok (N checks)" only after checking every answer; the
 * test then runs a second client, which must still be served. */
#include <fs_client.h>
#include <protocol_call.h>
#include "testlib.h"

static struct fs_client fs;

static int case_huge(void) {
  uint64_t file;
  static const char hello[] = "hello";
  expect_eq("create /huge", fs_open(&fs, "/huge", APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE, 0644, &file, NULL, NULL),
            0);
  expect_eq("write hello", fs_write(&fs, file, 0, hello, 5), 0);
  for (int round = 0; round < 5; round++) {
    expect_eq("truncate to 2^64 - 1", fs_truncate(&fs, file, UINT64_MAX), APUS_FS_STATUS_BAD_REQUEST);
    expect_eq("truncate to 2^63", fs_truncate(&fs, file, 1ull << 63), APUS_FS_STATUS_BAD_REQUEST);
    expect_eq("write 1 byte at 2^64 - 1", fs_write(&fs, file, UINT64_MAX, hello, 1), APUS_FS_STATUS_BAD_REQUEST);
    expect_eq("write 5 bytes at 2^64 - 2", fs_write(&fs, file, UINT64_MAX - 1, hello, 5), APUS_FS_STATUS_BAD_REQUEST);
    expect_eq("write 1 byte at 2^64 - 4096", fs_write(&fs, file, 0ull - 4096, hello, 1), APUS_FS_STATUS_BAD_REQUEST);
    expect_eq("write 1 byte at 2^50", fs_write(&fs, file, 1ull << 50, hello, 1), APUS_FS_STATUS_BAD_REQUEST);
  }
  fs_close(&fs, file);
  uint64_t size = 0, count = 0;
  char back[8] = {0};
  expect_eq("open /huge again", fs_open(&fs, "/huge", APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, NULL), 0);
  expect_eq("its size is what was written", (int64_t)size, 5);
  expect_eq("read it", fs_read(&fs, file, 0, back, 5, &count), 0);
  expect_true("it reads hello", count == 5 && memcmp(back, hello, 5) == 0);
  fs_close(&fs, file);
  return finish("huge");
}

/* The readdir area: where the records go, rewritten by the other thread. */
#define AREA_LEN (32u << 10)
static volatile int hammering = 1;
static volatile uint64_t rewrites;

static void hammer(uint64_t argument) {
  (void)argument;
  volatile uint64_t *area = (volatile uint64_t *)(fs.buffer + FS_CLIENT_DATA);
  /* Every 8-aligned record start then reads inode 2 (the root) and record_len 0 (the
   * top bytes of the next word): a server walking records back from here never ends. */
  while (hammering) {
    for (uint32_t i = 0; i < AREA_LEN / 8; i++) area[i] = 2;
    rewrites++;
  }
  apus_thread_exit(0);
}

static int case_readdir(const char *path) {
  uint64_t file;
  expect_eq("open the directory", fs_open(&fs, path, APUS_FS_OPEN_FLAGS_READ | APUS_FS_OPEN_FLAGS_DIRECTORY, 0, &file, NULL, NULL), 0);
  int64_t thread = start_thread(hammer, 0);
  expect_true("start the rewriting thread", !apus_is_error(thread));
  uint64_t first_total = 0;
  for (int round = 0; round < 40; round++) {
    uint64_t cookie = 0, total = 0;
    int64_t status;
    do {
      struct apus_fs_readdir_request request;
      memset(&request, 0, sizeof request);
      request.header.op = APUS_FS_OP_READDIR;
      request.header.id = fs.next_id++;
      request.file = file;
      request.cookie = cookie;
      request.buffer_offset = FS_CLIENT_DATA;
      request.buffer_len = AREA_LEN;
      struct apus_fs_readdir_reply reply;
      status = protocol_call(fs.endpoint, &request.header, sizeof request, NULL, 0, &reply, sizeof reply, NULL, 0);
      if (status != 0) break;
      total += reply.entries;
      cookie = reply.next_cookie;
    } while (cookie != 0);
    expect_eq("a listing while the buffer is rewritten", status, 0);
    if (round == 0) first_total = total;
    expect_eq("every listing counts the same entries", (int64_t)total, (int64_t)first_total);
  }
  hammering = 0;
  if (!apus_is_error(thread)) apus_handle_close((apus_handle_t)thread);
  expect_true("the directory has its files", first_total > 100);
  expect_true("the thread rewrote the buffer", rewrites > 0);
  fs_close(&fs, file);
  printf("FSHOSTILE: listed %lu entries 40 times, %lu rewrites\n", first_total, rewrites);
  return finish("readdir");
}

static int case_sparse(uint64_t offset) {
  uint64_t file, size = 0;
  static const char one[] = "x";
  uint32_t flags = APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE;
  expect_eq("create /sparse", fs_open(&fs, "/sparse", flags, 0644, &file, NULL, NULL), 0);
  expect_eq("write 1 byte far out", fs_write(&fs, file, offset, one, 1), 0);
  expect_eq("truncate to 0", fs_truncate(&fs, file, 0), 0);
  expect_eq("write 1 byte far out again", fs_write(&fs, file, offset, one, 1), 0);
  fs_close(&fs, file);
  expect_eq("reopen", fs_open(&fs, "/sparse", APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, NULL), 0);
  expect_eq("its size", (int64_t)size, (int64_t)(offset + 1));
  char back = 0;
  uint64_t count = 0;
  expect_eq("read the byte", fs_read(&fs, file, offset, &back, 1, &count), 0);
  expect_true("it is there", count == 1 && back == 'x');
  fs_close(&fs, file);
  expect_eq("unlink it", fs_unlink(&fs, "/sparse"), 0);
  expect_eq("sync", fs_sync(&fs), 0);
  return finish("sparse");
}

static int case_edge(uint64_t largest) {
  uint64_t file, size = 0, count = 0;
  static const char one[] = "e";
  char back = 0;
  expect_eq("create /edge", fs_open(&fs, "/edge", APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE, 0644, &file, NULL, NULL), 0);
  expect_eq("a byte at the last offset", fs_write(&fs, file, largest - 1, one, 1), 0);
  expect_eq("a byte past it", fs_write(&fs, file, largest, one, 1), APUS_FS_STATUS_BAD_REQUEST);
  expect_eq("two bytes across the end", fs_write(&fs, file, largest - 1, "ee", 2), APUS_FS_STATUS_BAD_REQUEST);
  expect_eq("truncate one past", fs_truncate(&fs, file, largest + 1), APUS_FS_STATUS_BAD_REQUEST);
  expect_eq("truncate to the largest", fs_truncate(&fs, file, largest), 0);
  fs_close(&fs, file);
  expect_eq("reopen", fs_open(&fs, "/edge", APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, NULL), 0);
  expect_eq("its size is the largest", (int64_t)size, (int64_t)largest);
  expect_eq("read the last byte", fs_read(&fs, file, largest - 1, &back, 1, &count), 0);
  expect_true("it is there", count == 1 && back == 'e');
  fs_close(&fs, file);
  expect_eq("sync", fs_sync(&fs), 0);
  return finish("edge");
}

static int case_cut(const char *path) {
  uint64_t file;
  int64_t opened = fs_open(&fs, path, APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_TRUNCATE, 0, &file, NULL, NULL);
  if (opened == 0) fs_close(&fs, file);
  int64_t unlinked = fs_unlink(&fs, path);
  expect_eq("sync", fs_sync(&fs), 0);
  printf("FSHOSTILE: cut open=%ld unlink=%ld\n", opened, unlinked);
  return finish("cut");
}

static int case_many(void) {
  static uint64_t files[APUS_FS_OPEN_MAX];
  int64_t opened = 0;
  for (uint32_t i = 0; i < APUS_FS_OPEN_MAX && opened == 0; i++)
    opened = fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_READ, 0, &files[i], NULL, NULL);
  expect_eq("open_max opens", opened, 0);
  uint64_t more;
  expect_eq("one more", fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_READ, 0, &more, NULL, NULL), APUS_FS_STATUS_TOO_MANY_OPEN);
  uint32_t create = APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE;
  expect_eq("a create past the limit", fs_open(&fs, "/not-made", create, 0644, &more, NULL, NULL), APUS_FS_STATUS_TOO_MANY_OPEN);
  struct apus_fs_stat_reply stat;
  expect_eq("...made nothing", fs_stat(&fs, "/not-made", &stat), APUS_FS_STATUS_NOT_FOUND);
  expect_eq("close one", fs_close(&fs, files[0]), 0);
  expect_eq("open after a close", fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_READ, 0, &files[0], NULL, NULL), 0);
  return finish("many");  /* ends with open_max files open */
}

int main(int argc, char **argv) {
  test_name = "FSHOSTILE";
  if (fs_connect(&fs, 64 << 10) != 0) {
    printf("FSHOSTILE: no filesystem to talk to\n");
    return 1;
  }
  const char *which = argc > 1 ? argv[1] : "";
  if (strcmp(which, "huge") == 0) return case_huge();
  if (strcmp(which, "readdir") == 0) return case_readdir(argc > 2 ? argv[2] : "/");
  if (strcmp(which, "many") == 0) return case_many();
  if (strcmp(which, "edge") == 0) return case_edge(number_after(argc > 2 ? argv[2] : "0"));
  if (strcmp(which, "cut") == 0) return case_cut(argc > 2 ? argv[2] : "/hello.txt");
  if (strcmp(which, "sparse") == 0) return case_sparse(number_after(argc > 2 ? argv[2] : "0"));
  printf("FSHOSTILE: unknown case %s\n", which);
  return 2;
}
