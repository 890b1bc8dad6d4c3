/* The C network client (include/net_client.h): one ipc_call per request, with the
 * generated message structs of spec/net.xml. */
#include <string.h>
#include <net_client.h>
#include <protocol_call.h>
#include <registry.h>
#include <shared_buffer.h>

/* The buffer: one datagram. */
#define NET_BUFFER_SIZE 4096

union net_reply {
  struct apus_msg_header header;
  struct apus_net_info_reply info;
  struct apus_net_stats_reply stats;
  struct apus_net_bind_reply bind;
  struct apus_net_recv_from_reply recv_from;
  struct apus_net_ping_reply ping;
};

static int64_t exchange(struct net_client *client, struct apus_msg_header *request, uint64_t length,
                        const uint32_t *handles, uint64_t handle_count, union net_reply *reply) {
  request->id = client->next_id++;
  int64_t status = protocol_call(client->endpoint, request, length, handles, handle_count, reply, sizeof *reply, NULL, 0);
  if (status >= 0 && reply->header.op != request->op) return -(int64_t)APUS_ERR_INVALID_ARGUMENT;
  return status;
}

int64_t net_raw(struct net_client *client, const void *request, uint64_t length) {
  union net_reply reply;
  return protocol_call_raw(client->endpoint, request, length, NULL, 0, &reply, sizeof reply);
}

int64_t net_connect(struct net_client *client, int wait) {
  memset(client, 0, sizeof *client);
  client->next_id = 1;
  int64_t status = registry_lookup(REGISTRY_HANDLE, NET_SERVICE_NAME, wait ? APUS_REGISTRY_LOOKUP_FLAGS_WAIT : 0,
                                   &client->endpoint);
  if (status != 0) return status > 0 ? -(int64_t)APUS_ERR_NOT_FOUND : status;
  struct shared_buffer buffer;
  int64_t made = shared_buffer_create(&buffer, NET_BUFFER_SIZE);
  if (made != 0) return made;
  client->buffer = buffer.data;
  apus_handle_close(buffer.shm); /* the mapping keeps it */
  struct apus_net_attach_buffer_request request = {.header = {.op = APUS_NET_OP_ATTACH_BUFFER}, .buffer_size = NET_BUFFER_SIZE};
  union net_reply reply;
  uint32_t handle = buffer.to_send;
  return exchange(client, &request.header, sizeof request, &handle, 1, &reply);
}

int64_t net_info(struct net_client *client, struct apus_net_info_reply *info) {
  struct apus_net_info_request request = {.header = {.op = APUS_NET_OP_INFO}};
  union net_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_NET_STATUS_OK) *info = reply.info;
  return status;
}

int64_t net_stats(struct net_client *client, struct apus_net_stats_reply *stats) {
  struct apus_net_stats_request request = {.header = {.op = APUS_NET_OP_STATS}};
  union net_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_NET_STATUS_OK) *stats = reply.stats;
  return status;
}

int64_t net_bind(struct net_client *client, uint16_t port, uint32_t *socket, uint16_t *bound_port) {
  struct apus_net_bind_request request = {.header = {.op = APUS_NET_OP_BIND}, .port = port};
  union net_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_NET_STATUS_OK) {
    *socket = reply.bind.socket;
    if (bound_port) *bound_port = reply.bind.port;
  }
  return status;
}

int64_t net_send_to(struct net_client *client, uint32_t socket, uint32_t address, uint16_t port, const void *data,
                    uint32_t length) {
  if (length > NET_BUFFER_SIZE) return APUS_NET_STATUS_BAD_REQUEST;
  memcpy(client->buffer, data, length);
  struct apus_net_send_to_request request = {
    .header = {.op = APUS_NET_OP_SEND_TO}, .socket = socket, .address = address, .port = port, .length = length,
    .buffer_offset = 0,
  };
  union net_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t net_recv_from(struct net_client *client, uint32_t socket, void *data, uint32_t capacity, uint32_t flags,
                      uint32_t timeout_ms, struct apus_net_recv_from_reply *from) {
  if (capacity > NET_BUFFER_SIZE) capacity = NET_BUFFER_SIZE;
  struct apus_net_recv_from_request request = {
    .header = {.op = APUS_NET_OP_RECV_FROM}, .socket = socket, .flags = flags, .buffer_offset = 0,
    .capacity = capacity, .timeout_ms = timeout_ms,
  };
  union net_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_NET_STATUS_OK) {
    memcpy(data, client->buffer, reply.recv_from.length);
    *from = reply.recv_from;
  }
  return status;
}

int64_t net_close(struct net_client *client, uint32_t socket) {
  struct apus_net_close_request request = {.header = {.op = APUS_NET_OP_CLOSE}, .socket = socket};
  union net_reply reply;
  return exchange(client, &request.header, sizeof request, NULL, 0, &reply);
}

int64_t net_ping(struct net_client *client, uint32_t address, uint16_t size, uint16_t sequence, uint32_t timeout_ms,
                 struct apus_net_ping_reply *ping) {
  struct apus_net_ping_request request = {
    .header = {.op = APUS_NET_OP_PING}, .address = address, .size = size, .sequence = sequence, .timeout_ms = timeout_ms,
  };
  union net_reply reply;
  int64_t status = exchange(client, &request.header, sizeof request, NULL, 0, &reply);
  if (status == APUS_NET_STATUS_OK) *ping = reply.ping;
  return status;
}

const char *net_status_name(int64_t status) {
  switch (status) {
  case APUS_NET_STATUS_OK: return "ok";
  case APUS_NET_STATUS_BAD_REQUEST: return "bad request";
  case APUS_NET_STATUS_NO_BUFFER: return "no buffer";
  case APUS_NET_STATUS_BAD_SOCKET: return "bad socket";
  case APUS_NET_STATUS_ADDRESS_IN_USE: return "address in use";
  case APUS_NET_STATUS_HOST_UNREACHABLE: return "host unreachable";
  case APUS_NET_STATUS_TIMED_OUT: return "timed out";
  case APUS_NET_STATUS_WOULD_BLOCK: return "would block";
  case APUS_NET_STATUS_BUSY: return "busy";
  default: return status < 0 ? "IPC failed" : "unknown status";
  }
}

uint32_t net_parse_address(const char *text) {
  uint32_t address = 0;
  for (int part = 0; part < 4; part++) {
    if (*text < '0' || *text > '9') return 0;
    uint32_t value = 0;
    while (*text >= '0' && *text <= '9') {
      value = value * 10 + (uint32_t)(*text++ - '0');
      if (value > 255) return 0;
    }
    if (part < 3 && *text++ != '.') return 0;
    address = address << 8 | value;
  }
  return *text == 0 ? address : 0;
}
