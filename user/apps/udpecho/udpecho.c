/* udpecho: the UDP echo service (RFC 862) as a package (make packages →
 * udpecho-1.0.pkg): every datagram that reaches its port goes back to its sender,
 * byte for byte. A client of netd through the C net client.
 *   udpecho [port=P] [count=N]   port 7 unless P; with N, stops after N datagrams
 *                                 and reports (tests and benchmarks use that) */
#include <stdio.h>
#include <string.h>
#include <net_client.h>

static unsigned long option(int argc, char **argv, const char *name, unsigned long fallback) {
  size_t length = strlen(name);
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], name, length) != 0 || argv[i][length] != '=') continue;
    unsigned long value = 0;
    for (const char *digit = argv[i] + length + 1; *digit >= '0' && *digit <= '9'; digit++) value = value * 10 + (unsigned long)(*digit - '0');
    return value;
  }
  return fallback;
}

int main(int argc, char **argv) {
  unsigned long port = option(argc, argv, "port", 7), count = option(argc, argv, "count", 0);
  struct net_client net;
  int64_t status = net_connect(&net, 0);
  if (status != 0) {
    printf("udpecho: no network: %s\n", status < 0 ? "no netd registered" : net_status_name(status));
    return 1;
  }
  uint32_t socket;
  uint16_t bound;
  status = net_bind(&net, (uint16_t)port, &socket, &bound);
  if (status != 0) {
    printf("udpecho: bind port %lu: %s\n", port, net_status_name(status));
    return 1;
  }
  struct apus_net_info_reply info;
  net_info(&net, &info);
  printf("UDPECHO: listening on %u.%u.%u.%u port %u\n", info.address >> 24, info.address >> 16 & 255, info.address >> 8 & 255,
         info.address & 255, bound);
  static uint8_t datagram[APUS_NET_MAX_DATAGRAM];
  unsigned long echoed = 0, bytes = 0, failed = 0;
  while (count == 0 || echoed < count) {
    struct apus_net_recv_from_reply from;
    status = net_recv_from(&net, socket, datagram, sizeof datagram, 0, 0, &from);
    if (status != 0) {
      printf("udpecho: receive: %s\n", net_status_name(status));
      return 1;
    }
    status = net_send_to(&net, socket, from.address, from.port, datagram, from.length);
    if (status != 0) {
      failed++;
      printf("udpecho: echo to port %u: %s\n", from.port, net_status_name(status));
      continue;
    }
    echoed++;
    bytes += from.length;
  }
  net_close(&net, socket);
  if (failed == 0) printf("NET: udp echo ok (%lu datagrams, %lu bytes)\n", echoed, bytes);
  else printf("NET: udp echo failed %lu of %lu\n", failed, echoed + failed);
  return failed != 0;
}
