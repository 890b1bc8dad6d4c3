/* The C filesystem client (include/fs_client.h): one ipc_call per request, with the
 * generated message structs of spec/fs.xml. */
#include <string.h>
#include <stdlib.h>
#include <fs_client.h>
#include <protocol_call.h>
#include <shared_buffer.h>
#include <registry.h>

union fs_reply {
  struct apus_msg_header header;
  struct apus_fs_open_reply open;
  struct apus_fs_read_reply read;
  struct apus_fs_stat_reply stat;
  struct apus_fs_readdir_reply readdir;
};

static int64_t exchange(struct fs_client *client, struct apus_msg_header *request, uint64_t length, const uint32_t *handles,
                        uint64_t handle_count, union fs_reply *reply) {
  request->id = client->next_id++;
  return protocol_call(client->endpoint, request, length, handles, handle_count, reply, sizeof *reply, NULL, 0);
}

int64_t fs_connect(struct fs_client *client, uint64_t buffer_size) {
  return fs_connect_through(client, REGISTRY_HANDLE, buffer_size);
}

int64_t fs_connect_through(struct fs_client *client, apus_handle_t registry, uint64_t buffer_size) {
  memset(client, 0, sizeof *client);
  client->next_id = 1;
  /* No waiting: init starts programs only after fsd registered (or failed to). */
  int64_t status = registry_lookup(registry, "fs", 0, &client->endpoint);
  if (status != 0) return status > 0 ? -(int64_t)APUS_ERR_NOT_FOUND : status;
  struct shared_buffer buffer;
  int64_t made = shared_buffer_create(&buffer, buffer_size);
  if (made != 0) return made;
  client->buffer = buffer.data;
  client->size = buffer_size;
  client->shm = buffer.shm;
  struct apus_fs_attach_buffer_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_FS_OP_ATTACH_BUFFER;
  request.buffer_size = buffer_size;
  uint32_t handle = buffer.to_send;
  union fs_reply reply;
  return exchange(client, &request.header, sizeof request, &handle, 1, &reply);
}

/* Puts `path` at the buffer's start; its length, or -1 when too long. */
static int64_t put_path(struct fs_client *client, const char *path, uint64_t at) {
  size_t length = strlen(path);
  if (length > APUS_FS_PATH_MAX || at + length > FS_CLIENT_DATA) return -1;
  memcpy(client->buffer + at, path, length);
  return (int64_t)length;
}

int64_t fs_open(struct fs_client *client, const char *path, uint32_t flags, uint32_t mode, uint64_t *file, uint64_t *size,
                uint32_t *kind) {
  struct apus_fs_open_request request;
  memset(&request, 0, sizeof request);
  int64_t length = put_path(client, path, 0);
  if (length < 0) return APUS_FS_STATUS_NAME_TOO_LONG;
  request.header.op = APUS_FS_OP_OPEN;
  request.path_len = (uint32_t)length;
  request.flags = flags;
  request.mode = mode;
  union fs_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_FS_STATUS_OK) {
    if (file) *file = reply.open.file;
    if (size) *size = reply.open.size;
    if (kind) *kind = reply.open.kind;
  }
  return status;
}

int64_t fs_close(struct fs_client *client, uint64_t file) {
  struct apus_fs_close_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_FS_OP_CLOSE;
  request.file = file;
  union fs_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t fs_read(struct fs_client *client, uint64_t file, uint64_t offset, void *data, uint64_t length, uint64_t *count) {
  uint64_t done = 0, room = client->size - FS_CLIENT_DATA;
  int64_t status = APUS_FS_STATUS_OK;
  while (done < length) {
    struct apus_fs_read_request request;
    memset(&request, 0, sizeof request);
    request.header.op = APUS_FS_OP_READ;
    request.file = file;
    request.offset = offset + done;
    request.length = (uint32_t)(length - done < room ? length - done : room);
    request.buffer_offset = FS_CLIENT_DATA;
    union fs_reply reply;
    status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
    if (status != APUS_FS_STATUS_OK) break;
    memcpy((uint8_t *)data + done, client->buffer + FS_CLIENT_DATA, reply.read.count);
    done += reply.read.count;
    if (reply.read.count < request.length) break; /* the end of the file */
  }
  if (count) *count = done;
  return status;
}

int64_t fs_write(struct fs_client *client, uint64_t file, uint64_t offset, const void *data, uint64_t length) {
  uint64_t done = 0, room = client->size - FS_CLIENT_DATA;
  while (done < length) {
    struct apus_fs_write_request request;
    memset(&request, 0, sizeof request);
    request.header.op = APUS_FS_OP_WRITE;
    request.file = file;
    request.offset = offset + done;
    request.length = (uint32_t)(length - done < room ? length - done : room);
    request.buffer_offset = FS_CLIENT_DATA;
    memcpy(client->buffer + FS_CLIENT_DATA, (const uint8_t *)data + done, request.length);
    union fs_reply reply;
    int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
    if (status != APUS_FS_STATUS_OK) return status;
    done += request.length;
  }
  return APUS_FS_STATUS_OK;
}

int64_t fs_stat(struct fs_client *client, const char *path, struct apus_fs_stat_reply *stat) {
  struct apus_fs_stat_request request;
  memset(&request, 0, sizeof request);
  int64_t length = put_path(client, path, 0);
  if (length < 0) return APUS_FS_STATUS_NAME_TOO_LONG;
  request.header.op = APUS_FS_OP_STAT;
  request.path_len = (uint32_t)length;
  union fs_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_FS_STATUS_OK && stat) *stat = reply.stat;
  return status;
}

int64_t fs_list(struct fs_client *client, const char *path,
                void (*each)(void *context, const char *name, uint32_t kind, uint64_t inode), void *context) {
  uint64_t file;
  int64_t status = fs_open(client, path, APUS_FS_OPEN_FLAGS_READ | APUS_FS_OPEN_FLAGS_DIRECTORY, 0, &file, NULL, NULL);
  if (status != APUS_FS_STATUS_OK) return status;
  uint64_t cookie = 0;
  do {
    struct apus_fs_readdir_request request;
    memset(&request, 0, sizeof request);
    request.header.op = APUS_FS_OP_READDIR;
    request.file = file;
    request.cookie = cookie;
    request.buffer_offset = FS_CLIENT_DATA;
    request.buffer_len = (uint32_t)(client->size - FS_CLIENT_DATA);
    union fs_reply reply;
    status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
    if (status != APUS_FS_STATUS_OK) break;
    for (uint32_t at = 0; at < reply.readdir.bytes;) {
      struct apus_fs_dirent *entry = (struct apus_fs_dirent *)(client->buffer + FS_CLIENT_DATA + at);
      char name[APUS_FS_NAME_MAX + 1];
      memcpy(name, (const uint8_t *)entry + sizeof *entry, entry->name_len);
      name[entry->name_len] = 0;
      each(context, name, entry->kind, entry->inode);
      if (entry->record_len == 0) break;
      at += entry->record_len;
    }
    cookie = reply.readdir.next_cookie;
  } while (cookie != 0);
  fs_close(client, file);
  return status;
}

static int64_t path_call(struct fs_client *client, uint32_t op, const char *path, uint32_t mode) {
  struct apus_fs_mkdir_request request; /* unlink's request has the same first fields */
  memset(&request, 0, sizeof request);
  int64_t length = put_path(client, path, 0);
  if (length < 0) return APUS_FS_STATUS_NAME_TOO_LONG;
  request.header.op = op;
  request.path_len = (uint32_t)length;
  request.mode = mode;
  union fs_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t fs_mkdir(struct fs_client *client, const char *path, uint32_t mode) {
  return path_call(client, APUS_FS_OP_MKDIR, path, mode);
}

int64_t fs_unlink(struct fs_client *client, const char *path) { return path_call(client, APUS_FS_OP_UNLINK, path, 0); }

int64_t fs_rename(struct fs_client *client, const char *from, const char *to) {
  struct apus_fs_rename_request request;
  memset(&request, 0, sizeof request);
  int64_t from_len = put_path(client, from, 0);
  if (from_len < 0) return APUS_FS_STATUS_NAME_TOO_LONG;
  int64_t to_len = put_path(client, to, (uint64_t)from_len);
  if (to_len < 0) return APUS_FS_STATUS_NAME_TOO_LONG;
  request.header.op = APUS_FS_OP_RENAME;
  request.paths_len = (uint32_t)(from_len + to_len);
  request.from_len = (uint32_t)from_len;
  union fs_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t fs_truncate(struct fs_client *client, uint64_t file, uint64_t size) {
  struct apus_fs_truncate_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_FS_OP_TRUNCATE;
  request.file = file;
  request.size = size;
  union fs_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t fs_fsync(struct fs_client *client, uint64_t file) {
  struct apus_fs_fsync_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_FS_OP_FSYNC;
  request.file = file;
  union fs_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t fs_sync(struct fs_client *client) {
  struct apus_fs_sync_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_FS_OP_SYNC;
  union fs_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t fs_spawn(struct fs_client *client, const char *path, const char *args, uint64_t args_len,
                 const struct apus_handle_grant *grants, uint64_t grant_count) {
  uint64_t file, size;
  uint32_t kind;
  int64_t status = fs_open(client, path, APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, &kind);
  if (status != APUS_FS_STATUS_OK) return -(1000 + status);
  if (kind != APUS_FS_FILE_KIND_REGULAR) {
    fs_close(client, file);
    return -(1000 + APUS_FS_STATUS_IS_DIRECTORY);
  }
  /* The image goes into a memory object of its own, read in buffer-sized pieces. */
  uint64_t pages = (size + 4095) / 4096;
  int64_t image = apus_shm_create(pages ? pages * 4096 : 4096);
  int64_t mapped = apus_is_error(image) ? image : apus_shm_map((apus_handle_t)image, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  if (apus_is_error(mapped)) {
    fs_close(client, file);
    if (!apus_is_error(image)) apus_handle_close((apus_handle_t)image);
    return mapped;
  }
  uint64_t count = 0;
  status = fs_read(client, file, 0, (void *)(uintptr_t)mapped, size, &count);
  fs_close(client, file);
  int64_t process = status != APUS_FS_STATUS_OK ? -(1000 + status)
                    : count != size ? -(1000 + APUS_FS_STATUS_IO_ERROR)
                    : apus_process_spawn_image((apus_handle_t)image, size, (const uint8_t *)args, args_len, grants, grant_count);
  apus_vm_unmap((uint64_t)mapped, pages ? pages * 4096 : 4096);
  apus_handle_close((apus_handle_t)image);
  return process;
}

const char *fs_status_name(int64_t status) {
  switch (status) {
  case APUS_FS_STATUS_OK: return "ok";
  case APUS_FS_STATUS_NOT_FOUND: return "no such file or directory";
  case APUS_FS_STATUS_EXISTS: return "already exists";
  case APUS_FS_STATUS_NOT_DIRECTORY: return "not a directory";
  case APUS_FS_STATUS_IS_DIRECTORY: return "is a directory";
  case APUS_FS_STATUS_NO_SPACE: return "no space left";
  case APUS_FS_STATUS_IO_ERROR: return "I/O error";
  case APUS_FS_STATUS_BAD_REQUEST: return "bad request";
  case APUS_FS_STATUS_NAME_TOO_LONG: return "name too long";
  case APUS_FS_STATUS_NOT_EMPTY: return "directory not empty";
  case APUS_FS_STATUS_BAD_FILE: return "bad file";
  case APUS_FS_STATUS_READ_ONLY: return "read-only filesystem";
  case APUS_FS_STATUS_CORRUPTED: return "filesystem corrupted";
  case APUS_FS_STATUS_TOO_MANY_OPEN: return "too many open files";
  case APUS_FS_STATUS_BUSY: return "server busy";
  default: return status < 0 ? "system error" : "unknown status";
  }
}
