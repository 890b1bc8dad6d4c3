/* make bench, the package path: pkg_install installs /media/bench-1.0.pkg (a 1 MiB
 * payload, on the bench media disk) through pkgd — reading it through fsd, checking
 * the signature, the manifest and the SHA-256, writing it under staging, syncing and
 * renaming — and removes it again. Split like the other disk figures. */
#include <stdio.h>
#include "benchlib.h"
#include <string.h>
#include <apus/syscall.h>
#include <apus/pkg.h>
#include <registry.h>

static apus_handle_t server;

static int64_t call(void *request, uint64_t length, const uint32_t *handles, uint64_t count, void *reply, uint64_t size) {
  struct apus_ipc_call_args args = {.msg = (uint64_t)(uintptr_t)request, .len = length, .handles = (uint64_t)(uintptr_t)handles,
                                    .handle_count = count, .reply = (uint64_t)(uintptr_t)reply, .reply_cap = size};
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_call(server, &args, &info);
  return got < 0 ? got : ((struct apus_msg_header *)reply)->status;
}

int main(void) {
  if (registry_lookup(REGISTRY_HANDLE, "pkg", 0, &server) != 0) {
    printf("BENCH pkg_install skipped (no pkgd)\n");
    return 0;
  }
  int64_t shm = apus_shm_create(4096);
  int64_t mapped = apus_shm_map((apus_handle_t)shm, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  int64_t sent = apus_handle_duplicate((apus_handle_t)shm, APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP | APUS_RIGHT_TRANSFER);
  struct apus_pkg_attach_buffer_request attach = {.header = {.op = APUS_PKG_OP_ATTACH_BUFFER, .id = 1}, .buffer_size = 4096};
  uint32_t handle = (uint32_t)sent;
  struct apus_msg_header attached;
  if (apus_is_error(mapped) || call(&attach, sizeof attach, &handle, 1, &attached, sizeof attached) != 0) return 1;
  static const char path[] = "/media/bench-1.0.pkg";
  memcpy((void *)(uintptr_t)mapped, path, sizeof path - 1);
  struct apus_pkg_install_request install = {.header = {.op = APUS_PKG_OP_INSTALL, .id = 2}, .path_len = sizeof path - 1,
                                             .flags = APUS_PKG_INSTALL_FLAGS_REPLACE};
  struct apus_pkg_install_reply reply;
  uint64_t idle = idle_ticks(), start = rdtsc();
  int64_t status = call(&install, sizeof install, NULL, 0, &reply, sizeof reply);
  uint64_t total = rdtsc() - start, waited = idle_ticks() - idle;
  if (status != 0) {
    printf("BENCH pkg_install failed (status %ld)\n", status);
    return 1;
  }
  printf("BENCH pkg_install ticks_per_op=%lu guest=%lu device=%lu (%lu bytes)\n", total, total - waited, waited,
         reply.package.installed_bytes);
  memcpy((void *)(uintptr_t)mapped, "bench", 5);
  struct apus_pkg_remove_request remove = {.header = {.op = APUS_PKG_OP_REMOVE, .id = 3}, .name_len = 5};
  struct apus_msg_header removed;
  call(&remove, sizeof remove, NULL, 0, &removed, sizeof removed);
  return 0;
}
