"""Issue 16: a disk driver killed again and again under a writing filesystem loses
nothing fsd acknowledged. make test runs 20 kills; `make chaos` runs 100
(APUS_CHAOS_KILLS, APUS_CHAOS_SEED). The checks are in chaos.py: the kernel's kill
count, a restart after each kill, every fsynced file read back on the host, e2fsck
clean."""
import os

from chaos import run_chaos
from ext2image import make_image, with_programs


def test_blkdevd_killed_again_and_again_loses_no_fsynced_byte(request, disk_image, tmp_path):
    kills = int(os.environ.get("APUS_CHAOS_KILLS", "20"))
    seed = int(os.environ.get("APUS_CHAOS_SEED", "16"))
    disk = make_image(disk_image(0), with_programs(tmp_path / "root"), size_mib=64)
    result, durable, restarts = run_chaos(f"test_chaos.{kills}_kills", disk, seed=seed, kills=kills, files=kills * 10,
                                          timeout=120 + kills * 3)
    restarts.sort()
    median = restarts[len(restarts) // 2] if restarts else (0, 0)
    print(f"\nCHAOS: seed {seed}: {kills} kills, {len(durable)} fsynced files read back intact on the host, "
          f"e2fsck clean; restart to serving again (readiness polled every 10 ms): median {median[0]} ticks "
          f"({median[1]} us), max {restarts[-1][0] if restarts else 0} ticks")
