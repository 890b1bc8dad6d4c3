/* make bench, the filesystem path (needs an ext2 disk: make bench formats
 * out/bench-disk.img): a client process through fsd, blkdevd and the device.
 *   fs_read_seq      an 8 MiB file read in 60 KiB requests: ticks per MiB
 *   fs_create_small  create + write 4 KiB + close, in one directory: ticks per file
 * Split like the block figures: guest ticks (our path) and device wait. */
#include <stdio.h>
#include "benchlib.h"
#include <string.h>
#include <fs_client.h>

static uint8_t data[1 << 16];

int main(void) {
  struct fs_client fs;
  if (fs_connect(&fs, 128 << 10) != 0) {
    printf("BENCH fs_read_seq skipped (no filesystem)\n");
    return 0;
  }
  uint64_t file, size;
  if (fs_open(&fs, "/big", APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE | APUS_FS_OPEN_FLAGS_TRUNCATE, 0644, &file, NULL,
              NULL) != 0) {
    printf("BENCH fs_read_seq failed (cannot create /big)\n");
    return 1;
  }
  for (uint64_t at = 0; at < (8u << 20); at += sizeof data) fs_write(&fs, file, at, data, sizeof data);
  fs_fsync(&fs, file);
  fs_close(&fs, file);
  if (fs_open(&fs, "/big", APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, NULL) != 0 || size != (8u << 20)) return 1;
  uint64_t idle = idle_ticks(), start = rdtsc();
  for (uint64_t at = 0; at < size;) {
    uint64_t count = 0;
    if (fs_read(&fs, file, at, data, 60 << 10, &count) != 0 || count == 0) {
      printf("BENCH fs_read_seq failed\n");
      return 1;
    }
    at += count;
  }
  uint64_t total = rdtsc() - start, waited = idle_ticks() - idle;
  printf("BENCH fs_read_seq ticks_per_mib=%lu guest=%lu device=%lu\n", total / 8, (total - waited) / 8, waited / 8);
  fs_close(&fs, file);
  fs_mkdir(&fs, "/small", 0755);
  enum { FILES = 200 };
  idle = idle_ticks();
  start = rdtsc();
  for (int i = 0; i < FILES; i++) {
    char path[32];
    snprintf(path, sizeof path, "/small/f%d", i);
    uint64_t made;
    if (fs_open(&fs, path, APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE, 0644, &made, NULL, NULL) != 0 ||
        fs_write(&fs, made, 0, data, 4096) != 0) {
      printf("BENCH fs_create_small failed\n");
      return 1;
    }
    fs_close(&fs, made);
  }
  total = rdtsc() - start;
  waited = idle_ticks() - idle;
  printf("BENCH fs_create_small ticks_per_op=%lu guest=%lu device=%lu\n", total / FILES, (total - waited) / FILES,
         waited / FILES);
  return 0;
}
