"""make bench's boot: the kernel masks its tick while benchmarks run, so endpoint
timers never fire there; init's supervisor must start its servers without them
(init --no-tick: it waits on each ready message). Before that, make bench hung at
svcman's start, waiting for a readiness poll that never came. Without disks or a card
the device benchmarks say they are skipped; the rest must print their figures."""
from apus_qemu import EXIT_CLEAN_HALT


def test_the_bench_boot_starts_its_servers_without_a_tick(qemu):
    result = qemu(cmdline="bench", qemu_args=["-icount", "shift=0"], timeout=120)
    result.expect("SVCMAN: ready", "BENCH blk_read_4k skipped (no disk)", "BENCH net_tx_pps skipped (no network card)",
                  "INIT: done failures=0", "KERNEL: halt ok")
    for name in ("null_syscall", "ipc_call_roundtrip", "shm_map_unmap"):
        result.expect_match(rf"BENCH {name} ticks_per_op=\d+")
    result.expect_exit(EXIT_CLEAN_HALT)
