/* tests/chaos FILES (tests/supervisor/test_chaos.py): writes FILES files /chaos/fN
 * through fsd, each followed by fsync, while the kernel kills blkdevd again and again
 * (chaos=...) and init's supervisor restarts it. After each fsync that returned ok it
 * prints "CHAOS: durable fN size=S": fsd has promised that file, and the host checks
 * every promised file on the disk image afterwards. A failed call prints its status
 * and the program goes on with the next file (nothing was promised for that one); when
 * fsd itself is gone (the call failed, not the request), it waits for the restarted
 * fsd to register and connects again.
 * File N holds lines "file N line L\n" up to its size, 1 to 8 KiB. */
#include <stdio.h>
#include <string.h>
#include <fs_client.h>
#include <registry.h>
#include "testlib.h"

static char data[8192];

static uint64_t fill(uint64_t n) {
  uint64_t size = 1024 + (n * 1237) % 7168, at = 0;
  for (uint64_t line = 0; at < size; line++) {
    char text[48];
    int length = snprintf(text, sizeof text, "file %lu line %lu\n", n, line);
    for (int i = 0; i < length && at < size; i++) data[at++] = text[i];
  }
  return size;
}

int main(int argc, char **argv) {
  uint64_t files = argc > 1 ? number_after(argv[1]) : 100, durable = 0, failed = 0;
  struct fs_client fs;
  if (fs_connect(&fs, 64 << 10) != 0) {
    printf("CHAOS: no filesystem\n");
    return 1;
  }
  int64_t made = fs_mkdir(&fs, "/chaos", 0755);
  if (made != 0 && made != APUS_FS_STATUS_EXISTS) printf("CHAOS: mkdir /chaos: %s\n", fs_status_name(made));
  for (uint64_t n = 0; n < files; n++) {
    char path[32];
    snprintf(path, sizeof path, "/chaos/f%lu", n);
    uint64_t size = fill(n), file, ignored_size;
    uint32_t kind;
    int64_t status = fs_open(&fs, path, APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE | APUS_FS_OPEN_FLAGS_TRUNCATE, 0644,
                             &file, &ignored_size, &kind);
    if (status == 0) {
      status = fs_write(&fs, file, 0, data, size);
      if (status == 0) status = fs_fsync(&fs, file);
      fs_close(&fs, file);
    }
    if (status == 0) {
      durable++;
      printf("CHAOS: durable f%lu size=%lu\n", n, size);
      continue;
    }
    failed++;
    printf("CHAOS: f%lu not promised: %s\n", n, status < 0 ? "fsd is gone" : fs_status_name(status));
    if (status < 0) { /* the server, not the request: wait for the new fsd */
      apus_handle_t found;
      if (registry_lookup(REGISTRY_HANDLE, "fs", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found) == 0) apus_handle_close(found);
      apus_handle_close(fs.endpoint);
      apus_vm_unmap((uint64_t)(uintptr_t)fs.buffer, 64 << 10);
      apus_handle_close(fs.shm);
      if (fs_connect(&fs, 64 << 10) != 0) {
        printf("CHAOS: no filesystem after fsd's restart\n");
        return 1;
      }
      printf("CHAOS: connected to fsd again\n");
    }
  }
  printf("CHAOS: %lu files, %lu durable, %lu failed\n", files, durable, failed);
  return 0;
}
