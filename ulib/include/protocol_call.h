/* One request and its reply with a protocol server over ipc_call, as the C clients
 * (block, fs, net, registry) make them: the request's header carries its op and id
 * (the caller numbers requests), the reply lands in `reply` (up to reply_cap bytes)
 * with up to reply_handle_cap handles. Returns the reply's status (0 = ok), or a
 * negated APUS_ERR_* when the call failed or the reply does not answer the request
 * (shorter than a header, another id). */
#ifndef APUS_PROTOCOL_CALL_H
#define APUS_PROTOCOL_CALL_H
#include <stdint.h>
#include <apus/syscall.h>

int64_t protocol_call(apus_handle_t server, const struct apus_msg_header *request, uint64_t length,
                      const uint32_t *handles, uint64_t handle_count, void *reply, uint64_t reply_cap,
                      uint32_t *reply_handles, uint64_t reply_handle_cap);
/* The same for any bytes (tests sending what the typed calls cannot): the reply's
 * id is not checked. */
int64_t protocol_call_raw(apus_handle_t server, const void *request, uint64_t length, const uint32_t *handles,
                          uint64_t handle_count, void *reply, uint64_t reply_cap);
#endif
