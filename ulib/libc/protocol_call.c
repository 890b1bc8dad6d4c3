/* include/protocol_call.h */
#include <protocol_call.h>

static int64_t call(apus_handle_t server, const void *request, uint64_t length, const uint32_t *handles,
                    uint64_t handle_count, void *reply, uint64_t reply_cap, uint32_t *reply_handles,
                    uint64_t reply_handle_cap) {
  struct apus_ipc_call_args args = {
    .msg = (uint64_t)(uintptr_t)request, .len = length,
    .handles = (uint64_t)(uintptr_t)handles, .handle_count = handle_count,
    .reply = (uint64_t)(uintptr_t)reply, .reply_cap = reply_cap,
    .reply_handles = (uint64_t)(uintptr_t)reply_handles, .reply_handle_cap = reply_handle_cap,
  };
  struct apus_ipc_recv_info info;
  int64_t got = apus_ipc_call(server, &args, &info);
  if (apus_is_error(got)) return got;
  if (got < (int64_t)sizeof(struct apus_msg_header)) return -(int64_t)APUS_ERR_INVALID_ARGUMENT;
  return 0;
}

int64_t protocol_call(apus_handle_t server, const struct apus_msg_header *request, uint64_t length,
                      const uint32_t *handles, uint64_t handle_count, void *reply, uint64_t reply_cap,
                      uint32_t *reply_handles, uint64_t reply_handle_cap) {
  int64_t failed = call(server, request, length, handles, handle_count, reply, reply_cap, reply_handles, reply_handle_cap);
  if (failed) return failed;
  const struct apus_msg_header *answer = reply;
  if (answer->id != request->id) return -(int64_t)APUS_ERR_INVALID_ARGUMENT;
  return answer->status;
}

int64_t protocol_call_raw(apus_handle_t server, const void *request, uint64_t length, const uint32_t *handles,
                          uint64_t handle_count, void *reply, uint64_t reply_cap) {
  int64_t failed = call(server, request, length, handles, handle_count, reply, reply_cap, NULL, 0);
  return failed ? failed : ((const struct apus_msg_header *)reply)->status;
}
