"""M3: trace=syscalls decodes each call with the generated name table."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_trace_of_roundtrip(qemu):
    result = qemu(cmdline="trace=syscalls run=tests/roundtrip")
    trace = result.lines_starting("TRACE ")
    pid = re.search(r"TRACE pid=(\d+) debug_write\(buf=0x[0-9a-f]+, len=17\) = 17", "\n".join(trace))
    assert pid, result.report("debug_write of the program's own string not traced")
    child = pid.group(1)
    own = [line for line in trace if line.startswith(f"TRACE pid={child} ")]
    assert re.fullmatch(rf"TRACE pid={child} time_now\(\) = \d+", own[1]), result.report("time_now")
    assert re.fullmatch(rf"TRACE pid={child} time_now\(\) = \d+", own[2]), result.report("time_now")
    assert own[-1] == f"TRACE pid={child} process_exit(code=0)", result.report("exit traced on the way in")
    # init runs the program with two grants (the registry and the console), waits for
    # it and closes its handle.
    spawn = re.compile(r"TRACE pid=1 process_spawn_handles\(path=0x[0-9a-f]+, path_len=15, args=0x[0-9a-f]+, args_len=16, "
                       r"grants=0x[0-9a-f]+, grant_count=2\) = (\d+)")
    spawned = [m.group(1) for line in trace if (m := spawn.fullmatch(line))]
    assert spawned, result.report("init's process_spawn_handles")
    assert any(line.startswith(f"TRACE pid=1 process_wait(process={spawned[0]}, ") for line in trace), result.report("process_wait")
    assert f"TRACE pid=1 handle_close(handle={spawned[0]}) = 0" in trace, result.report("handle_close")
    result.expect_exit(EXIT_CLEAN_HALT)


def test_trace_names_errors(qemu):
    result = qemu(cmdline="trace=syscalls run=tests/hostile")
    assert any(line.endswith("= -4 (fault)") and " debug_write(buf=0x0, len=4)" in line for line in result.lines), \
        result.report("fault not named")
    assert any(" syscall#1000 = -1 (no_such_call)" in line for line in result.lines), result.report("unknown number")
