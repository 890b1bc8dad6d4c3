/* net: the network interface from the shell (/bin/net), a client of netd.
 *   net          address, mask, gateway, where they came from, the card's MAC
 *   net stats    netd's counters: frames in and out, and every drop by reason */
#include <stdio.h>
#include <string.h>
#include <net_client.h>

static void address(const char *label, uint32_t value) {
  printf("%s %u.%u.%u.%u", label, value >> 24, value >> 16 & 255, value >> 8 & 255, value & 255);
}

int main(int argc, char **argv) {
  struct net_client net;
  int64_t status = net_connect(&net, 0);
  if (status != 0) {
    printf("net: no network server (%s)\n", NET_SERVICE_NAME);
    return 1;
  }
  if (argc >= 2 && strcmp(argv[1], "stats") == 0) {
    struct apus_net_stats_reply s;
    if (net_stats(&net, &s) != 0) return 1;
    printf("NETSTAT: received=%lu sent=%lu malformed=%lu checksum=%lu fragments=%lu ethertype=%lu no_socket=%lu "
           "queue_full=%lu other=%lu arp_replies=%lu echo_replies=%lu\n",
           s.frames_received, s.frames_sent, s.dropped_malformed, s.dropped_checksum, s.dropped_fragments,
           s.dropped_ethertype, s.dropped_no_socket, s.dropped_queue_full, s.dropped_other, s.arp_replies_sent,
           s.echo_replies_sent);
    return 0;
  }
  if (argc >= 2) {
    printf("usage: net [stats]\n");
    return 2;
  }
  struct apus_net_info_reply info;
  if (net_info(&net, &info) != 0) return 1;
  unsigned prefix = 0;
  for (uint32_t mask = info.netmask; mask & 0x80000000u; mask <<= 1) prefix++;
  address("net0:", info.address);
  printf("/%u", prefix);
  address(" gateway", info.gateway);
  printf(" (%s) mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n", info.source == APUS_NET_CONFIG_SOURCE_DHCP ? "dhcp" : "fallback",
         info.mac[0], info.mac[1], info.mac[2], info.mac[3], info.mac[4], info.mac[5], info.mtu);
  return 0;
}
