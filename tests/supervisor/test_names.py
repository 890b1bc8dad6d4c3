"""Issue 21: names are capabilities, and what svcman and init keep for programs cannot
be taken from them. tests/names runs as an ORDINARY program (run=, a registry handle
without manage) while chaos= kills fsd at one of its requests; after it, a second
client (tests/chaos) must still be served by the real fsd, and the supervisor's lines
show fsd died once and came back once, never given up."""
from apus_qemu import EXIT_CLEAN_HALT
from ext2image import e2fsck, make_image, with_programs

# fsd dies at its 30th request (seed 1): after pkgd's at boot, among tests/names's.
KILL_FSD = "chaos=services/fsd,seed=1,max=40,kills=1"


def run_names(qemu, disk_image, tmp_path, mode):
    disk = make_image(disk_image(0), with_programs(tmp_path / "root"), size_mib=64)
    result = qemu(disk=disk, cmdline=f"{KILL_FSD} run=tests/names,{mode} run=tests/chaos,2", timeout=120)
    result.expect("SUPERVISOR: fsd died (reason=killed code=0)",
                  "SUPERVISOR: restarted fsd (exit reason=killed, count=1) after 10 ms",
                  "INIT: tests/names exited code=0", "CHAOS: 2 files, 2 durable, 0 failed",
                  "INIT: tests/chaos exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    result.expect_match(r"NAMES: fsd is gone \(request \d+\)")
    assert "gave up on fsd" not in result.log, result.report("fsd was given up")
    assert "SUPERVISOR: svcman died" not in result.log, result.report("svcman died")
    assert result.log.count("FSD: mount ok") == 2, result.report("fsd mounted once at boot and once at its restart")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(disk)
    assert check.returncode == 0, check.stdout
    return result


def test_an_ordinary_program_cannot_take_a_name_or_the_raw_disk(qemu, disk_image, tmp_path):
    """It adds "fs" and a new name (access_denied, before and after fsd dies: fsd's name
    is reserved for its restart, so a lookup without wait is not_found meanwhile) and
    looks up block0 (not found, with or without wait); then it reaches the restarted,
    real fsd."""
    result = run_names(qemu, disk_image, tmp_path, "names")
    result.expect_match(r"NAMES: names ok \(\d+ checks\)")


def test_killed_waiters_are_freed_and_one_client_cannot_take_every_wait(qemu, disk_image, tmp_path):
    """A fifth waiting lookup of one client is busy; 20 waiters killed leave svcman's 16
    slots free, so the lookup that waits for fsd's restart is taken."""
    result = run_names(qemu, disk_image, tmp_path, "waiters")
    result.expect("NAMES: 20 waiters killed")
    result.expect_match(r"NAMES: waiters ok \(\d+ checks\)")


def test_fsd_is_restarted_while_a_program_holds_every_timer_it_can(qemu, disk_image, tmp_path):
    """A full timer table once kept init from arming its restart timer, and a crashed
    fsd stayed dead. If the kernel refuses init's arm, init says so and watches the
    clock itself."""
    result = run_names(qemu, disk_image, tmp_path, "timers")
    result.expect_match(r"NAMES: \d+ timers armed \(the last arm: -?\d+\)")
    result.expect_match(r"NAMES: timers ok \(\d+ checks\)")


def test_a_tool_cannot_register_something_that_is_not_an_endpoint(qemu):
    """svcman took any handle with an add and kept it: a shm object never looks gone, so
    it stayed (and was handed to lookups) for ever; the stateful fuzzer's long run
    (seed 7) left 4 kernel objects that way. Now only an endpoint is accepted."""
    result = qemu(cmdline="init=tool=tests/names run=tests/names,tool-adds")
    result.expect_match(r"NAMES: tool adds ok \(\d+ checks\)")
    result.expect("INIT: tests/names exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
