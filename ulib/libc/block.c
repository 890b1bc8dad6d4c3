/* The C block client (include/block_client.h): one ipc_call per request, with the
 * generated message structs of spec/block.xml. */
#include <string.h>
#include <block_client.h>
#include <protocol_call.h>

/* The largest block reply (info). */
union block_reply {
  struct apus_msg_header header;
  struct apus_block_info_reply info;
  struct apus_block_attach_buffer_reply attach;
  struct apus_block_read_reply read;
};

static int64_t exchange(struct block_client *client, struct apus_msg_header *request, uint64_t length,
                        const uint32_t *handles, uint64_t handle_count, union block_reply *reply) {
  request->id = client->next_id++;
  return protocol_call(client->endpoint, request, length, handles, handle_count, reply, sizeof *reply, NULL, 0);
}

int64_t block_raw(struct block_client *client, const void *request, uint64_t length, const uint32_t *handles,
                  uint64_t handle_count) {
  union block_reply reply;
  return protocol_call_raw(client->endpoint, request, length, handles, handle_count, &reply, sizeof reply);
}

int64_t block_info(struct block_client *client, struct apus_block_info_reply *info) {
  struct apus_block_info_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_BLOCK_OP_INFO;
  union block_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_BLOCK_STATUS_OK) *info = reply.info;
  return status;
}

int64_t block_attach(struct block_client *client, apus_handle_t shm, uint64_t size, uint64_t *generation) {
  struct apus_block_attach_buffer_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_BLOCK_OP_ATTACH_BUFFER;
  request.buffer_size = size;
  union block_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, &shm, 1, &reply);
  if (status == APUS_BLOCK_STATUS_OK && generation) *generation = reply.attach.generation;
  return status;
}

static int64_t transfer(struct block_client *client, uint32_t op, uint64_t lba, uint32_t count, uint32_t flags,
                        uint64_t offset) {
  struct apus_block_read_request request; /* write's request has the same fields */
  memset(&request, 0, sizeof request);
  request.header.op = op;
  request.lba = lba;
  request.count = count;
  request.flags = flags;
  request.buffer_offset = offset;
  union block_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t block_read(struct block_client *client, uint64_t lba, uint32_t count, uint32_t flags, uint64_t offset) {
  return transfer(client, APUS_BLOCK_OP_READ, lba, count, flags, offset);
}

int64_t block_write(struct block_client *client, uint64_t lba, uint32_t count, uint32_t flags, uint64_t offset) {
  return transfer(client, APUS_BLOCK_OP_WRITE, lba, count, flags, offset);
}

int64_t block_flush(struct block_client *client, uint32_t flags) {
  struct apus_block_flush_request request;
  memset(&request, 0, sizeof request);
  request.header.op = APUS_BLOCK_OP_FLUSH;
  request.flags = flags;
  union block_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}
