/* The block protocol from C (spec/block.xml; services/blkdevd serves it). A client
 * looks its disk up in the registry (block0, ...), attaches one shared buffer and then
 * reads and writes blocks at offsets in it. Each call returns the protocol status
 * (APUS_BLOCK_STATUS_*, 0 = ok) or a negated APUS_ERR_* when the call itself failed.
 * One struct block_client per thread: its ids are its own. */
#ifndef APUS_BLOCK_CLIENT_H
#define APUS_BLOCK_CLIENT_H
#include <stdint.h>
#include <apus/syscall.h>
#include <apus/block.h>

struct block_client {
  apus_handle_t endpoint;
  uint64_t next_id;
};

int64_t block_info(struct block_client *client, struct apus_block_info_reply *info);
/* Moves `shm` to the server (pass a duplicate to keep one). */
int64_t block_attach(struct block_client *client, apus_handle_t shm, uint64_t size, uint64_t *generation);
int64_t block_read(struct block_client *client, uint64_t lba, uint32_t count, uint32_t flags, uint64_t offset);
int64_t block_write(struct block_client *client, uint64_t lba, uint32_t count, uint32_t flags, uint64_t offset);
int64_t block_flush(struct block_client *client, uint32_t flags);
/* Any request bytes, for tests that send what the typed calls cannot. */
int64_t block_raw(struct block_client *client, const void *request, uint64_t length, const uint32_t *handles,
                  uint64_t handle_count);
#endif
