/* The C registry client (include/registry.h): one ipc_call per request, with the
 * generated message structs of spec/registry.xml. */
#include <string.h>
#include <registry.h>
#include <protocol_call.h>

static uint64_t next_id = 1;

static int64_t exchange(apus_handle_t registry, const struct apus_msg_header *request, uint64_t length,
                        const uint32_t *handles, uint64_t handle_count, struct apus_msg_header *reply, uint32_t *reply_handles) {
  return protocol_call(registry, request, length, handles, handle_count, reply, sizeof *reply, reply_handles, reply_handles ? 1 : 0);
}

static int set_name(uint8_t *field, uint32_t *length, const char *name) {
  size_t count = strlen(name);
  if (count == 0 || count > APUS_REGISTRY_NAME_MAX) return 0;
  memset(field, 0, APUS_REGISTRY_NAME_MAX);
  memcpy(field, name, count);
  *length = (uint32_t)count;
  return 1;
}

int64_t registry_add(apus_handle_t registry, const char *name, apus_handle_t endpoint) {
  struct apus_registry_add_request request;
  memset(&request, 0, sizeof request);
  if (!set_name(request.name, &request.name_len, name)) return APUS_REGISTRY_STATUS_BAD_REQUEST;
  request.header.op = APUS_REGISTRY_OP_ADD;
  request.header.id = next_id++;
  struct apus_msg_header reply;
  return exchange(registry, &request.header, sizeof request, &endpoint, 1, &reply, NULL);
}

int64_t registry_lookup(apus_handle_t registry, const char *name, uint32_t flags, apus_handle_t *endpoint) {
  struct apus_registry_lookup_request request;
  memset(&request, 0, sizeof request);
  if (!set_name(request.name, &request.name_len, name)) return APUS_REGISTRY_STATUS_BAD_REQUEST;
  request.header.op = APUS_REGISTRY_OP_LOOKUP;
  request.header.id = next_id++;
  request.flags = flags;
  struct apus_msg_header reply;
  uint32_t handle = 0;
  int64_t status = exchange(registry, &request.header, sizeof request, NULL, 0, &reply, &handle);
  if (status == APUS_REGISTRY_STATUS_OK) *endpoint = handle;
  return status;
}
