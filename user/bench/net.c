/* make bench, the network path (make bench gives the first boot a card on QEMU's
 * user network): a client sending UDP through netd to the host.
 *   net_tx_pps  - 64-byte datagrams to the subnet's broadcast address, port 9
 *                 (discard), from send_to to the frame on the card: guest ticks per
 *                 packet, and the packets per second that is at one tick per
 *                 nanosecond (-icount shift=0): a figure of our path, not of QEMU's.
 *                 Broadcast, because a unicast to the host draws ICMP port-unreachable
 *                 frames back from slirp whose interrupts land at random points of the
 *                 run; the path is the same but for the ARP lookup. The frames netd
 *                 received meanwhile are printed (rx=), so noise shows.
 * Device ticks (idle, waiting for QEMU) are split off as in bench/block. */
#include <stdio.h>
#include "benchlib.h"
#include <net_client.h>

#define PACKETS 2000
#define DISCARD 9
#define BROADCAST 0x0a0002ffu

int main(void) {
  struct net_client net;
  if (net_connect(&net, 0) != 0) {
    printf("BENCH net_tx_pps skipped (no network card)\n");
    return 0;
  }
  uint32_t socket;
  static uint8_t payload[64];
  if (net_bind(&net, 0, &socket, NULL) != 0 || net_send_to(&net, socket, BROADCAST, DISCARD, payload, sizeof payload) != 0) {
    printf("BENCH net_tx_pps failed (bind or the first send)\n");
    return 1;
  }
  struct apus_net_stats_reply before, after;
  net_stats(&net, &before);
  uint64_t idle = idle_ticks(), start = rdtsc();
  for (int i = 0; i < PACKETS; i++) {
    payload[0] = (uint8_t)i;
    if (net_send_to(&net, socket, BROADCAST, DISCARD, payload, sizeof payload) != 0) {
      printf("BENCH net_tx_pps failed at packet %d\n", i);
      return 1;
    }
  }
  uint64_t total = rdtsc() - start, waited = idle_ticks() - idle;
  net_stats(&net, &after);
  uint64_t per_packet = (total - waited) / PACKETS;
  printf("BENCH net_tx_pps ticks_per_packet=%lu guest=%lu device=%lu pps=%lu (at 1 tick/ns) rx=%lu\n", total / PACKETS,
         per_packet, waited / PACKETS, per_packet ? 1000000000ul / per_packet : 0, after.frames_received - before.frames_received);
  net_close(&net, socket);
  return 0;
}
