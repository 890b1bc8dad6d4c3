/* pkg: the package manager's command (/bin/pkg), a client of pkgd (spec/pkg.xml).
 *   pkg install FILE   verify and install (a newer version replaces the installed one)
 *   pkg remove NAME    pkg list    pkg info NAME */
#include <stdio.h>
#include <string.h>
#include <apus/syscall.h>
#include <apus/pkg.h>
#include <registry.h>

static apus_handle_t server;
static uint8_t *buffer;
#define BUFFER_SIZE (16u << 10)

static const char *status_name(int64_t status) {
  switch (status) {
  case APUS_PKG_STATUS_OK: return "ok";
  case APUS_PKG_STATUS_NOT_FOUND: return "not found";
  case APUS_PKG_STATUS_EXISTS: return "already installed";
  case APUS_PKG_STATUS_BAD_ARCHIVE: return "not a valid package archive";
  case APUS_PKG_STATUS_BAD_MANIFEST: return "bad manifest (or files that disagree with it)";
  case APUS_PKG_STATUS_HASH_MISMATCH: return "a file's SHA-256 differs from the manifest";
  case APUS_PKG_STATUS_SIZE_MISMATCH: return "a file's size differs from the manifest";
  case APUS_PKG_STATUS_UNSAFE_PATH: return "unsafe path or link in the package";
  case APUS_PKG_STATUS_IO_ERROR: return "I/O error";
  case APUS_PKG_STATUS_NO_SPACE: return "no space";
  case APUS_PKG_STATUS_BAD_REQUEST: return "bad request";
  case APUS_PKG_STATUS_BAD_SIGNATURE: return "unsigned, or not signed by a trusted key";
  case APUS_PKG_STATUS_BUSY: return "the package manager is busy with other clients";
  default: return status < 0 ? "the package manager is not answering" : "unknown status";
  }
}

static int64_t call(void *request, uint64_t length, const uint32_t *handles, uint64_t count, void *reply, uint64_t reply_size) {
  static uint64_t id = 1;
  ((struct apus_msg_header *)request)->id = id++;
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)request, .len = length, .handles = (uint64_t)(uintptr_t)handles, .handle_count = count,
    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = reply_size,
  };
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_call(server, &args, &info);
  if (apus_is_error(got)) return got;
  return ((struct apus_msg_header *)reply)->status;
}

static int connect(void) {
  if (registry_lookup(REGISTRY_HANDLE, "pkg", 0, &server) != 0) return 0;
  int64_t shm = apus_shm_create(BUFFER_SIZE);
  int64_t mapped = apus_shm_map((apus_handle_t)shm, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  int64_t sent = apus_handle_duplicate((apus_handle_t)shm, APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP | APUS_RIGHT_TRANSFER);
  if (apus_is_error(shm) || apus_is_error(mapped) || apus_is_error(sent)) return 0;
  buffer = (uint8_t *)(uintptr_t)mapped;
  struct apus_pkg_attach_buffer_request request = {.header = {.op = APUS_PKG_OP_ATTACH_BUFFER}, .buffer_size = BUFFER_SIZE};
  uint32_t handle = (uint32_t)sent;
  struct apus_msg_header reply;
  return call(&request, sizeof request, &handle, 1, &reply, sizeof reply) == 0;
}

static void show(const struct apus_pkg_package_entry *entry) {
  char name[65], version[33]; /* NUL-padded fields, not always NUL-terminated */
  memcpy(name, entry->name, 64);
  name[64] = 0;
  memcpy(version, entry->version, 32);
  version[32] = 0;
  printf("%s %s (%u files, %lu bytes)\n", name, version, entry->file_count, entry->installed_bytes);
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "list") != 0 && argc < 3)) {
    printf("usage: pkg install FILE | pkg remove NAME | pkg list | pkg info NAME\n");
    return 2;
  }
  if (!connect()) {
    printf("pkg: no package manager (pkgd) is running\n");
    return 1;
  }
  const char *command = argv[1];
  if (strcmp(command, "list") == 0) {
    struct apus_pkg_list_request request = {.header = {.op = APUS_PKG_OP_LIST}, .buffer_offset = 0, .buffer_len = BUFFER_SIZE};
    struct apus_pkg_list_reply reply;
    int64_t status = call(&request, sizeof request, NULL, 0, &reply, sizeof reply);
    if (status != 0) {
      printf("pkg: list: %s\n", status_name(status));
      return 1;
    }
    for (uint32_t i = 0; i < reply.count; i++) show((const struct apus_pkg_package_entry *)buffer + i);
    if (reply.total == 0) printf("pkg: no packages installed\n");
    return 0;
  }
  size_t length = strlen(argv[2]);
  if (length > 1024) return 2;
  memcpy(buffer, argv[2], length);
  if (strcmp(command, "install") == 0) {
    struct apus_pkg_install_request request = {.header = {.op = APUS_PKG_OP_INSTALL}, .path_offset = 0,
                                               .path_len = (uint32_t)length, .flags = APUS_PKG_INSTALL_FLAGS_REPLACE};
    struct apus_pkg_install_reply reply;
    int64_t status = call(&request, sizeof request, NULL, 0, &reply, sizeof reply);
    if (status != 0) {
      printf("pkg: install %s: %s\n", argv[2], status_name(status));
      return 1;
    }
    printf("pkg: installed ");
    show(&reply.package);
    return 0;
  }
  if (strcmp(command, "remove") == 0 || strcmp(command, "info") == 0) {
    int remove = strcmp(command, "remove") == 0;
    struct apus_pkg_remove_request request = {.header = {.op = remove ? APUS_PKG_OP_REMOVE : APUS_PKG_OP_INFO},
                                              .name_offset = 0, .name_len = (uint32_t)length};
    struct apus_pkg_info_reply reply;
    int64_t status = call(&request, sizeof request, NULL, 0, &reply, sizeof reply);
    if (status != 0) {
      printf("pkg: %s %s: %s\n", command, argv[2], status_name(status));
      return 1;
    }
    if (remove) printf("pkg: removed %s\n", argv[2]);
    else show(&reply.package);
    return 0;
  }
  printf("pkg: unknown command %s\n", command);
  return 2;
}
