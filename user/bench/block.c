/* make bench, the block path (needs a disk: make bench attaches out/bench-disk.img):
 * a client process reading through the block protocol from blkdevd.
 *   blk_read_4k   - one 4 KiB read (8 blocks), request to reply: ticks per read
 *   blk_read_seq  - 16 MiB in 64 KiB requests: ticks per MiB, and MB/s by the guest
 *                   clock (under -icount that clock is instructions, so the MB/s
 *                   figure means something only in make bench's second, wall-clock
 *                   run, which says so)
 * Each ticks figure is split (system_info's idle ticks): guest ticks are the
 * instructions of our path (client, kernel, blkdevd), device ticks the time the CPU sat
 * idle waiting for QEMU's device model, which under -icount follows the host's clock
 * and so varies from run to run; the guest part does not.
 * Argument "wall": print only the wall-clock figure. */
#include <stdio.h>
#include "benchlib.h"
#include <string.h>
#include <block_client.h>
#include <registry.h>

#define READS 1000
#define SEQ_BYTES (16u << 20)
#define SEQ_CHUNK (64u << 10)

int main(int argc, char **argv) {
  int wall = argc > 1 && strcmp(argv[1], "wall") == 0;
  apus_handle_t server;
  if (registry_lookup(REGISTRY_HANDLE, "block0", 0, &server) != 0) {
    printf("BENCH blk_read_4k skipped (no disk)\n");
    return 0;
  }
  struct block_client client = {server, 1};
  struct apus_block_info_reply info;
  int64_t shm = apus_shm_create(SEQ_CHUNK);
  if (block_info(&client, &info) != 0 || info.block_count * 512 < SEQ_BYTES + (1u << 20) || apus_is_error(shm) ||
      block_attach(&client, (apus_handle_t)shm, SEQ_CHUNK, NULL) != 0) {
    printf("BENCH blk_read_4k failed (disk too small or no buffer)\n");
    return 1;
  }
  if (!wall) {
    block_read(&client, 0, 8, 0, 0); /* warm: first touch of every path */
    uint64_t idle = idle_ticks(), start = rdtsc();
    for (int i = 0; i < READS; i++) {
      if (block_read(&client, (uint64_t)i * 8, 8, 0, 0) != 0) {
        printf("BENCH blk_read_4k failed\n");
        return 1;
      }
    }
    uint64_t total = rdtsc() - start, waited = idle_ticks() - idle;
    printf("BENCH blk_read_4k ticks_per_op=%lu guest=%lu device=%lu\n", total / READS, (total - waited) / READS,
           waited / READS);
  }
  uint64_t idle = idle_ticks(), start = rdtsc(), started_ns = apus_time_now();
  for (uint32_t at = 0; at < SEQ_BYTES; at += SEQ_CHUNK) {
    if (block_read(&client, at / 512, SEQ_CHUNK / 512, 0, 0) != 0) {
      printf("BENCH blk_read_seq failed\n");
      return 1;
    }
  }
  uint64_t ticks = rdtsc() - start, ns = apus_time_now() - started_ns, waited = idle_ticks() - idle;
  uint64_t kb_per_s = ns ? (uint64_t)SEQ_BYTES * 1000000000ull / 1024 / ns : 0;
  if (wall) {
    printf("BENCH blk_read_seq_wall mb_per_s=%lu.%02lu (wall clock, QEMU TCG without -icount)\n", kb_per_s / 1024,
           (kb_per_s % 1024) * 100 / 1024);
  } else {
    printf("BENCH blk_read_seq ticks_per_mib=%lu guest=%lu device=%lu\n", ticks / (SEQ_BYTES >> 20),
           (ticks - waited) / (SEQ_BYTES >> 20), waited / (SEQ_BYTES >> 20));
  }
  return 0;
}
