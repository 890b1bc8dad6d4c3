/* A filesystem protocol client in its own process, against fsd, one case per run:
 *   list DIR        every entry of DIR: "FS: entry NAME KIND INODE"
 *   hash PATH...    each file's size and hash (FNV-1a over 64-bit words), read in
 *                   60 KiB pieces:
 *                   "FS: hash PATH SIZE HASH" (the test recomputes it on the host)
 *   scenario        creates, writes (growing through indirect blocks), renames,
 *                   truncates, deletes, makes and removes directories, checking each
 *                   answer; fsyncs; leaves a known tree for the host to check
 *   errors          every error status the spec names for bad paths and ids
 *   corrupt PATH    tries to read PATH and list its directory on a damaged image:
 *                   prints the statuses ("FS: corrupt open=.. read=.. list=..") */
#include <fs_client.h>
#include "testlib.h"

static struct fs_client fs;
static uint8_t data[1 << 20];

/* FNV-1a over little-endian 64-bit words (a short last word padded with zeros):
 * quick for the host to recompute over megabytes. Pieces are multiples of 8 bytes. */
static uint64_t fnv(const uint8_t *bytes, uint64_t length, uint64_t hash) {
  for (uint64_t i = 0; i < length; i += 8) {
    uint64_t word = 0;
    memcpy(&word, bytes + i, length - i < 8 ? length - i : 8);
    hash = (hash ^ word) * 0x100000001b3ull;
  }
  return hash;
}

static void print_entry(void *context, const char *name, uint32_t kind, uint64_t inode) {
  (void)context;
  printf("FS: entry %s %u %lu\n", name, kind, inode);
}

static int case_hash(int argc, char **argv) {
  for (int i = 2; i < argc; i++) {
    uint64_t file, size;
    uint32_t kind;
    int64_t status = fs_open(&fs, argv[i], APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, &kind);
    if (status != 0) {
      printf("FS: hash %s failed %ld\n", argv[i], status);
      test_failures++;
      continue;
    }
    uint64_t hash = 0xcbf29ce484222325ull, at = 0;
    while (at < size) {
      uint64_t count = 0;
      status = fs_read(&fs, file, at, data, 60 << 10, &count);
      if (status != 0 || count == 0) break;
      hash = fnv(data, count, hash);
      at += count;
    }
    uint64_t past = 1;
    expect_eq("a read past the end", fs_read(&fs, file, size, data, 16, &past), 0);
    expect_eq("...reads nothing", (int64_t)past, 0);
    fs_close(&fs, file);
    printf("FS: hash %s %lu %016lx\n", argv[i], at, hash);
  }
  return finish("hash");
}

/* The pattern scenario writes: byte i of a file is (i * 7 + seed) & 0xff. */
static void pattern(uint8_t *into, uint64_t offset, uint64_t length, unsigned seed) {
  for (uint64_t i = 0; i < length; i++) into[i] = (uint8_t)((offset + i) * 7 + seed);
}

static int64_t write_file(const char *path, uint64_t size, unsigned seed) {
  uint64_t file;
  int64_t status = fs_open(&fs, path, APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE | APUS_FS_OPEN_FLAGS_TRUNCATE, 0644,
                           &file, NULL, NULL);
  if (status != 0) return status;
  for (uint64_t at = 0; at < size && status == 0; at += sizeof data) {
    uint64_t piece = size - at < sizeof data ? size - at : sizeof data;
    pattern(data, at, piece, seed);
    status = fs_write(&fs, file, at, data, piece);
  }
  if (status == 0) status = fs_fsync(&fs, file);
  fs_close(&fs, file);
  return status;
}

static int check_file(const char *path, uint64_t size, unsigned seed) {
  uint64_t file, got_size;
  if (fs_open(&fs, path, APUS_FS_OPEN_FLAGS_READ, 0, &file, &got_size, NULL) != 0 || got_size != size) return 0;
  int good = 1;
  for (uint64_t at = 0; at < size && good; at += sizeof data) {
    uint64_t piece = size - at < sizeof data ? size - at : sizeof data, count = 0;
    if (fs_read(&fs, file, at, data, piece, &count) != 0 || count != piece) good = 0;
    for (uint64_t i = 0; i < piece && good; i++) good = data[i] == (uint8_t)((at + i) * 7 + seed);
  }
  fs_close(&fs, file);
  return good;
}

static int case_scenario(void) {
  expect_eq("mkdir /work", fs_mkdir(&fs, "/work", 0755), 0);
  expect_eq("mkdir /work/deep", fs_mkdir(&fs, "/work/deep", 0755), 0);
  expect_eq("write /work/small", write_file("/work/small", 1000, 1), 0);
  expect_eq("write /work/big (double indirect at 1 KiB blocks)", write_file("/work/big", (9u << 20) + 123, 2), 0);
  expect_true("read /work/big back", check_file("/work/big", (9u << 20) + 123, 2));
  expect_eq("write /work/deep/file", write_file("/work/deep/file", 70000, 3), 0);
  expect_eq("write /gone", write_file("/gone", 50000, 4), 0);
  expect_eq("unlink /gone", fs_unlink(&fs, "/gone"), 0);
  expect_eq("rename /work/small to /work/deep/moved", fs_rename(&fs, "/work/small", "/work/deep/moved"), 0);
  expect_eq("write /replaced", write_file("/replaced", 3000, 5), 0);
  expect_eq("write /replacement", write_file("/replacement", 2000, 6), 0);
  expect_eq("rename over a file", fs_rename(&fs, "/replacement", "/replaced"), 0);
  expect_true("the replacement is there", check_file("/replaced", 2000, 6));
  expect_eq("mkdir /emptydir", fs_mkdir(&fs, "/emptydir", 0755), 0);
  expect_eq("rename a directory across parents", fs_rename(&fs, "/emptydir", "/work/emptied"), 0);
  expect_eq("write /work/cut", write_file("/work/cut", 300000, 7), 0);
  uint64_t file;
  expect_eq("open /work/cut", fs_open(&fs, "/work/cut", APUS_FS_OPEN_FLAGS_WRITE, 0, &file, NULL, NULL), 0);
  expect_eq("truncate it to 5000", fs_truncate(&fs, file, 5000), 0);
  fs_close(&fs, file);
  expect_true("what is left", check_file("/work/cut", 5000, 7));
  expect_eq("mkdir /tmpdir", fs_mkdir(&fs, "/tmpdir", 0755), 0);
  expect_eq("rmdir /tmpdir", fs_unlink(&fs, "/tmpdir"), 0);
  expect_eq("sync", fs_sync(&fs), 0);
  if (test_failures == 0) printf("FS: scenario ok\n");
  return finish("scenario");
}

static int case_errors(void) {
  uint64_t file;
  struct apus_fs_stat_reply stat;
  expect_eq("open a missing file", fs_open(&fs, "/nope", APUS_FS_OPEN_FLAGS_READ, 0, &file, NULL, NULL), APUS_FS_STATUS_NOT_FOUND);
  expect_eq("a relative path", fs_open(&fs, "nope", APUS_FS_OPEN_FLAGS_READ, 0, &file, NULL, NULL), APUS_FS_STATUS_BAD_REQUEST);
  expect_eq("through a file", fs_stat(&fs, "/hello.txt/x", &stat), APUS_FS_STATUS_NOT_DIRECTORY);
  expect_eq("create exclusive over a file", fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE | APUS_FS_OPEN_FLAGS_EXCLUSIVE, 0, &file, NULL, NULL), APUS_FS_STATUS_EXISTS);
  expect_eq("write a directory", fs_open(&fs, "/docs", APUS_FS_OPEN_FLAGS_WRITE, 0, &file, NULL, NULL), APUS_FS_STATUS_IS_DIRECTORY);
  expect_eq("directory flag on a file", fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_DIRECTORY, 0, &file, NULL, NULL), APUS_FS_STATUS_NOT_DIRECTORY);
  expect_eq("unknown open flag", fs_open(&fs, "/hello.txt", 1u << 20, 0, &file, NULL, NULL), APUS_FS_STATUS_BAD_REQUEST);
  char long_name[300];
  memset(long_name, 'a', sizeof long_name);
  long_name[0] = '/';
  long_name[299] = 0;
  expect_eq("a name over 255 bytes", fs_stat(&fs, long_name, &stat), APUS_FS_STATUS_NAME_TOO_LONG);
  expect_eq("mkdir over a file", fs_mkdir(&fs, "/hello.txt", 0755), APUS_FS_STATUS_EXISTS);
  expect_eq("mkdir in a missing directory", fs_mkdir(&fs, "/no/dir", 0755), APUS_FS_STATUS_NOT_FOUND);
  expect_eq("unlink a non-empty directory", fs_unlink(&fs, "/docs"), APUS_FS_STATUS_NOT_EMPTY);
  expect_eq("unlink a missing file", fs_unlink(&fs, "/nope"), APUS_FS_STATUS_NOT_FOUND);
  expect_eq("rename a missing file", fs_rename(&fs, "/nope", "/nope2"), APUS_FS_STATUS_NOT_FOUND);
  expect_eq("rename a directory into itself", fs_rename(&fs, "/docs", "/docs/inner"), APUS_FS_STATUS_BAD_REQUEST);
  expect_eq("close an id never opened", fs_close(&fs, 12345), APUS_FS_STATUS_BAD_FILE);
  uint64_t count;
  expect_eq("read an id never opened", fs_read(&fs, 77, 0, data, 10, &count), APUS_FS_STATUS_BAD_FILE);
  expect_eq("open /hello.txt to read", fs_open(&fs, "/hello.txt", APUS_FS_OPEN_FLAGS_READ, 0, &file, NULL, NULL), 0);
  expect_eq("write a file opened to read", fs_write(&fs, file, 0, "x", 1), APUS_FS_STATUS_BAD_FILE);
  fs_close(&fs, file);
  expect_eq("a closed id", fs_close(&fs, file), APUS_FS_STATUS_BAD_FILE);
  expect_eq("open /docs", fs_open(&fs, "/docs", APUS_FS_OPEN_FLAGS_READ, 0, &file, NULL, NULL), 0);
  expect_eq("read a directory", fs_read(&fs, file, 0, data, 10, &count), APUS_FS_STATUS_IS_DIRECTORY);
  fs_close(&fs, file);
  if (test_failures == 0) printf("FS: errors ok\n");
  return finish("errors");
}

static int case_corrupt(const char *path) {
  uint64_t file, size, count = 0;
  int64_t opened = fs_open(&fs, path, APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, NULL);
  int64_t read = -1;
  if (opened == 0) {
    read = fs_read(&fs, file, 0, data, sizeof data, &count);
    fs_close(&fs, file);
  }
  static int entries;
  int64_t listed = fs_list(&fs, "/", print_entry, &entries);
  struct apus_fs_stat_reply stat;
  int64_t again = fs_stat(&fs, "/", &stat);
  printf("FS: corrupt open=%ld read=%ld list=%ld root-stat=%ld\n", opened, read, listed, again);
  return 0;
}

int main(int argc, char **argv) {
  test_name = "FSCLIENT";
  if (fs_connect(&fs, 128 << 10) != 0) {
    printf("FS: no filesystem to talk to\n");
    return 1;
  }
  const char *which = argc > 1 ? argv[1] : "list";
  if (strcmp(which, "list") == 0) {
    int64_t status = fs_list(&fs, argc > 2 ? argv[2] : "/", print_entry, NULL);
    printf("FS: listed status=%ld\n", status);
    return status != 0;
  }
  if (strcmp(which, "hash") == 0) return case_hash(argc, argv);
  if (strcmp(which, "scenario") == 0) return case_scenario();
  if (strcmp(which, "errors") == 0) return case_errors();
  if (strcmp(which, "corrupt") == 0) return case_corrupt(argc > 2 ? argv[2] : "/hello.txt");
  printf("FSCLIENT: unknown case %s\n", which);
  return 2;
}
