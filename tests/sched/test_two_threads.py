"""M2: two kernel threads that never yield still interleave: the timer preempts them."""
from apus_qemu import EXIT_CLEAN_HALT


def test_threads_interleave_by_preemption(qemu):
    result = qemu(cmdline="test=threads", timeout=60)
    letters = [line for line in result.lines if line in ("A", "B")]
    assert sorted(letters) == ["A"] * 6 + ["B"] * 6, result.report("expected six A and six B lines")
    changes = sum(1 for previous, line in zip(letters, letters[1:]) if line != previous)
    assert changes >= 4, result.report(f"only {changes} alternations: {''.join(letters)}")
    [summary] = result.lines_starting("SCHED: threads interleaved by preemption")
    assert summary.endswith("yields=0"), result.report("the threads must not yield")
    result.expect_exit(EXIT_CLEAN_HALT)
