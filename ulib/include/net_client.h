/* The network protocol from C (spec/net.xml; services/netd serves it): UDP sockets
 * and ping. A client connects (looks netd up, attaches a shared buffer), binds a
 * socket and sends and receives datagrams; data goes through the buffer's first
 * max_datagram bytes. Each call returns the protocol status (APUS_NET_STATUS_*, 0 = ok)
 * or a negated APUS_ERR_* when the call itself failed. One struct net_client per
 * thread. Addresses and ports are host-order numbers (10.0.2.15 is 0x0a00020f). */
#ifndef APUS_NET_CLIENT_H
#define APUS_NET_CLIENT_H
#include <stdint.h>
#include <apus/syscall.h>
#include <apus/net.h>

#define NET_SERVICE_NAME "net0"

struct net_client {
  apus_handle_t endpoint;
  uint64_t next_id;
  uint8_t *buffer;
};

/* Looks the interface's server up (waiting for it to register when `wait`) and
 * attaches a buffer. A negated not_found when there is none. */
int64_t net_connect(struct net_client *client, int wait);
int64_t net_info(struct net_client *client, struct apus_net_info_reply *info);
int64_t net_stats(struct net_client *client, struct apus_net_stats_reply *stats);
/* port 0 picks a free one; *bound_port says which. */
int64_t net_bind(struct net_client *client, uint16_t port, uint32_t *socket, uint16_t *bound_port);
int64_t net_send_to(struct net_client *client, uint32_t socket, uint32_t address, uint16_t port, const void *data,
                    uint32_t length);
/* Waits for a datagram (flags APUS_NET_RECV_FLAGS_*, timeout_ms 0: no limit); its
 * payload lands in `data`, the rest (length, sender, truncated) in *from. */
int64_t net_recv_from(struct net_client *client, uint32_t socket, void *data, uint32_t capacity, uint32_t flags,
                      uint32_t timeout_ms, struct apus_net_recv_from_reply *from);
int64_t net_close(struct net_client *client, uint32_t socket);
int64_t net_ping(struct net_client *client, uint32_t address, uint16_t size, uint16_t sequence, uint32_t timeout_ms,
                 struct apus_net_ping_reply *reply);
/* Any request bytes, for tests that send what the typed calls cannot. */
int64_t net_raw(struct net_client *client, const void *request, uint64_t length);
const char *net_status_name(int64_t status);
/* "a.b.c.d" to a host-order address; 0 when it is not one. */
uint32_t net_parse_address(const char *text);
#endif
