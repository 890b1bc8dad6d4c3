/* The client side of the attach_buffer protocols (fs, net; block's callers make
 * their own): one shared memory object mapped here read-write, and a handle to send
 * with attach_buffer (read, write, map, transfer: it moves to the server). */
#ifndef APUS_SHARED_BUFFER_H
#define APUS_SHARED_BUFFER_H
#include <stdint.h>
#include <apus/syscall.h>

struct shared_buffer {
  uint8_t *data;
  uint64_t size;
  apus_handle_t shm;     /* kept here (fs_spawn sends duplicates of it) */
  apus_handle_t to_send; /* for attach_buffer */
};

/* 0, or a negated APUS_ERR_* (nothing is left open then). */
int64_t shared_buffer_create(struct shared_buffer *buffer, uint64_t size);
#endif
