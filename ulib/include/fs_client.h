/* The filesystem protocol from C (spec/fs.xml; services/fsd serves it). fs_connect
 * looks `fs` up in the registry and attaches a shared buffer of its own; paths go at
 * its start and data after FS_CLIENT_DATA, so each data call moves at most
 * fs_client.size - FS_CLIENT_DATA bytes (the helpers loop). Calls return the protocol
 * status (APUS_FS_STATUS_*, 0 = ok) or a negated APUS_ERR_*. One client per thread. */
#ifndef APUS_FS_CLIENT_H
#define APUS_FS_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include <apus/syscall.h>
#include <apus/fs.h>

#define FS_CLIENT_DATA 4096u

struct fs_client {
  apus_handle_t endpoint;
  uint64_t next_id;
  uint8_t *buffer;
  uint64_t size;
  apus_handle_t shm; /* the buffer's object, kept for fs_spawn */
};

/* buffer_size: a multiple of 4096, more than FS_CLIENT_DATA. A negated not_found
 * when no fsd serves. */
int64_t fs_connect(struct fs_client *client, uint64_t buffer_size);
/* The same through a registry handle other than REGISTRY_HANDLE (init's). */
int64_t fs_connect_through(struct fs_client *client, apus_handle_t registry, uint64_t buffer_size);
int64_t fs_open(struct fs_client *client, const char *path, uint32_t flags, uint32_t mode, uint64_t *file, uint64_t *size,
                uint32_t *kind);
int64_t fs_close(struct fs_client *client, uint64_t file);
/* Reads up to `length` bytes (any length: it loops); *count gets how many. */
int64_t fs_read(struct fs_client *client, uint64_t file, uint64_t offset, void *data, uint64_t length, uint64_t *count);
int64_t fs_write(struct fs_client *client, uint64_t file, uint64_t offset, const void *data, uint64_t length);
int64_t fs_stat(struct fs_client *client, const char *path, struct apus_fs_stat_reply *stat);
/* Calls `each` for every entry of the directory at `path`. */
int64_t fs_list(struct fs_client *client, const char *path,
                void (*each)(void *context, const char *name, uint32_t kind, uint64_t inode), void *context);
int64_t fs_mkdir(struct fs_client *client, const char *path, uint32_t mode);
int64_t fs_unlink(struct fs_client *client, const char *path);
int64_t fs_rename(struct fs_client *client, const char *from, const char *to);
int64_t fs_truncate(struct fs_client *client, uint64_t file, uint64_t size);
int64_t fs_fsync(struct fs_client *client, uint64_t file);
int64_t fs_sync(struct fs_client *client);
/* Starts the program at `path` (process_spawn_image): args as process_spawn_handles.
 * Returns the process handle, a negated APUS_ERR_*, or -(1000 + fs status). */
int64_t fs_spawn(struct fs_client *client, const char *path, const char *args, uint64_t args_len,
                 const struct apus_handle_grant *grants, uint64_t grant_count);
const char *fs_status_name(int64_t status);
#endif
