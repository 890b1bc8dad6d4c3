/* include/shared_buffer.h */
#include <shared_buffer.h>

int64_t shared_buffer_create(struct shared_buffer *buffer, uint64_t size) {
  int64_t shm = apus_shm_create(size);
  if (apus_is_error(shm)) return shm;
  int64_t sent = apus_handle_duplicate((apus_handle_t)shm, APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP | APUS_RIGHT_TRANSFER);
  int64_t mapped = apus_is_error(sent) ? sent : apus_shm_map((apus_handle_t)shm, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  if (apus_is_error(mapped)) {
    if (!apus_is_error(sent)) apus_handle_close((apus_handle_t)sent);
    apus_handle_close((apus_handle_t)shm);
    return mapped;
  }
  buffer->data = (uint8_t *)(uintptr_t)mapped;
  buffer->size = size;
  buffer->shm = (apus_handle_t)shm;
  buffer->to_send = (apus_handle_t)sent;
  return 0;
}
