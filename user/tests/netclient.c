/* The socket protocol from C (tests/net/test_udp_echo.py): every status a client can
 * meet, and datagrams to and from a real peer, the test's host socket behind QEMU's
 * user network (10.0.2.2 is the host there).
 *   tests/netclient HOSTPORT   the host socket's port */
#include "testlib.h"
#include <net_client.h>

#define GATEWAY 0x0a000202u
#define NOBODY 0x0a00024du /* 10.0.2.77: nobody answers ARP for it */

static uint64_t now(void) { return (uint64_t)apus_time_now(); }

int main(int argc, char **argv) {
  test_name = "NETCLIENT";
  uint16_t host_port = argc > 1 ? (uint16_t)number_after(argv[1]) : 0;
  struct net_client net;
  expect_eq("connect", net_connect(&net, 0), 0);
  struct apus_net_info_reply info;
  expect_eq("info", net_info(&net, &info), 0);
  expect_eq("address", info.address, 0x0a00020f);
  expect_eq("by DHCP", info.source, APUS_NET_CONFIG_SOURCE_DHCP);

  /* Ports. */
  uint32_t socket, other;
  uint16_t port, again;
  expect_eq("bind 0", net_bind(&net, 0, &socket, &port), 0);
  expect_true("an ephemeral port", port >= 49152);
  expect_eq("bind the same port", net_bind(&net, port, &other, &again), APUS_NET_STATUS_ADDRESS_IN_USE);
  expect_eq("bind 0 again", net_bind(&net, 0, &other, &again), 0);
  expect_true("another port", again != port);
  expect_eq("close it", net_close(&net, other), 0);
  expect_eq("close it twice", net_close(&net, other), APUS_NET_STATUS_BAD_SOCKET);
  expect_eq("send on a closed socket", net_send_to(&net, other, GATEWAY, 9, "x", 1), APUS_NET_STATUS_BAD_SOCKET);
  expect_eq("a made-up socket", net_close(&net, 0x7777), APUS_NET_STATUS_BAD_SOCKET);

  /* Receiving with nothing there. */
  static uint8_t data[APUS_NET_MAX_DATAGRAM + 1];
  struct apus_net_recv_from_reply from;
  expect_eq("dont_wait", net_recv_from(&net, socket, data, sizeof data, APUS_NET_RECV_FLAGS_DONT_WAIT, 0, &from),
            APUS_NET_STATUS_WOULD_BLOCK);
  uint64_t start = now();
  expect_eq("timeout", net_recv_from(&net, socket, data, sizeof data, 0, 50, &from), APUS_NET_STATUS_TIMED_OUT);
  expect_true("not before 50 ms", now() - start >= 50000000ull);
  expect_eq("an unknown flag", net_recv_from(&net, socket, data, sizeof data, 0x10, 0, &from), APUS_NET_STATUS_BAD_REQUEST);

  /* Bad sends. */
  expect_eq("one byte too long", net_send_to(&net, socket, GATEWAY, 9, data, APUS_NET_MAX_DATAGRAM + 1),
            APUS_NET_STATUS_BAD_REQUEST);
  expect_eq("port 0", net_send_to(&net, socket, GATEWAY, 0, data, 1), APUS_NET_STATUS_BAD_REQUEST);
  struct apus_net_send_to_request outside = {.header = {.op = APUS_NET_OP_SEND_TO, .id = 99}, .socket = socket,
                                             .address = GATEWAY, .port = 9, .length = 100, .buffer_offset = 4090};
  expect_eq("a range past the buffer", net_raw(&net, &outside, sizeof outside), APUS_NET_STATUS_BAD_REQUEST);
  start = now();
  expect_eq("nobody answers ARP", net_send_to(&net, socket, NOBODY, 9, "x", 1), APUS_NET_STATUS_HOST_UNREACHABLE);
  printf("NETCLIENT: ARP gave up after %lu ms\n", (now() - start) / 1000000);

  /* A real peer: the host. */
  static const char hello[] = "APUS->HOST hello";
  expect_eq("send to the host", net_send_to(&net, socket, GATEWAY, host_port, hello, sizeof hello - 1), 0);
  expect_eq("the host answers", net_recv_from(&net, socket, data, sizeof data, 0, 5000, &from), 0);
  expect_true("from the host's port", from.address == GATEWAY && from.port == host_port);
  expect_true("with our words back",
              from.length == sizeof hello - 1 + 11 && memcmp(data, "HOST->APUS ", 11) == 0 && memcmp(data + 11, hello, sizeof hello - 1) == 0);
  expect_eq("a long one, cut", net_recv_from(&net, socket, data, 10, 0, 5000, &from), 0);
  expect_true("cut to 10 bytes and marked", from.length == 10 && (from.flags & APUS_NET_DATAGRAM_FLAGS_TRUNCATED));

  /* Ping through the C client. */
  struct apus_net_ping_reply ping;
  expect_eq("ping the gateway", net_ping(&net, GATEWAY, 32, 1, 1000, &ping), 0);
  expect_true("a round trip", ping.round_trip_ns > 0 && ping.ttl > 0);
  expect_eq("ping nobody", net_ping(&net, NOBODY, 32, 2, 3000, &ping), APUS_NET_STATUS_HOST_UNREACHABLE);
  expect_eq("ping too big", net_ping(&net, GATEWAY, 1473, 3, 1000, &ping), APUS_NET_STATUS_BAD_REQUEST);

  expect_eq("close", net_close(&net, socket), 0);
  return finish("socket protocol");
}
