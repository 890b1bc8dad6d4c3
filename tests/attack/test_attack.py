"""Issue 21 attacked as a hostile ORDINARY program would (tests/attack, started by
init's run= with the lookup-only registry handle): a program that starts children of
its own to multiply its share of a server's tables. Per-client limits count by job
(a program init started and everything it started; kernel/object/Jobs.swift), so the
children share their parent's share: a client of the attacker's own job is refused
once the share is used, and a client of another job (the next run= program, while the
attacker's children still hold what they took) is served. These tests failed before
jobs: 32 children took every fsd buffer, 4 every open file and every waiting lookup,
and 250 held the process table so fsd was given up."""
from apus_qemu import EXIT_CLEAN_HALT
from ext2image import hello_image
from fsd_guard import expect_fsd_alive

SECOND_CLIENT = "run=tests/fsclient,hash,/hello.txt"
BUSY_FS = 14        # spec/fs.xml busy
TOO_MANY_OPEN = 13  # spec/fs.xml too_many_open
BUSY_REGISTRY = 5   # spec/registry.xml busy


def served_again(result):
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    result.expect("INIT: tests/fsclient exited code=0")
    expect_fsd_alive(result)
    result.expect("INIT: done failures=0")


def test_attack_32_children_take_every_fsd_buffer(qemu, disk_image, tmp_path):
    """32 children attaching one buffer each: the job gets ClientBuffers.perJob of
    fsd's 32 entries, its own next client is busy, another job's is served."""
    result = qemu(disk=hello_image(disk_image(0), tmp_path / "root"),
                  cmdline=f"run=tests/attack,buffers run=tests/attack,another-job-buffer {SECOND_CLIENT}", timeout=180)
    result.expect("INIT: tests/attack exited code=0")
    reports = result.expect_match(r"ATTACK: 32 hold-buffer children started, reports:(.*)").group(1).split()
    assert reports.count("0") == 8 and reports.count(str(BUSY_FS)) == 24, result.report("the job's share is 8 buffers")
    result.expect(f"ATTACK: another client's fs_connect and stat: {BUSY_FS}")
    result.expect("ATTACK: a client of another job: buffer: 0")
    served_again(result)


def test_attack_4_children_take_every_fsd_open_file(qemu, disk_image, tmp_path):
    """Four children opening all they can: the job holds open_max (64) of fsd's 256."""
    result = qemu(disk=hello_image(disk_image(0), tmp_path / "root"),
                  cmdline=f"run=tests/attack,files run=tests/attack,another-job-file {SECOND_CLIENT}", timeout=180)
    result.expect("INIT: tests/attack exited code=0")
    reports = [int(n) for n in result.expect_match(r"ATTACK: 4 hold-files children started, reports:(.*)").group(1).split()]
    assert sum(reports) == 64, result.report("the job's share is open_max files")
    result.expect(f"ATTACK: another client's fs_open: {TOO_MANY_OPEN}")
    result.expect("ATTACK: a client of another job: file: 0")
    served_again(result)


def test_attack_4_children_take_every_waiting_lookup(qemu, disk_image, tmp_path):
    """Four children with four waiting lookups each: the job gets 4 of svcman's 16; a
    waiting lookup of another job (the kind fs_spawn's and pkgd's reconnects make)
    waits instead of being busy."""
    result = qemu(disk=hello_image(disk_image(0), tmp_path / "root"),
                  cmdline=f"run=tests/attack,waiters run=tests/attack,another-job-wait {SECOND_CLIENT}", timeout=180)
    result.expect("INIT: tests/attack exited code=0")
    result.expect_match(r"ATTACK: 4 hold-waits children started, reports:.*")
    result.expect(f"ATTACK: another client's waiting lookup: {BUSY_REGISTRY}")
    result.expect("ATTACK: a client of another job: wait: 9999")  # still waiting: no answer
    served_again(result)


def test_attack_a_full_process_table_makes_the_supervisor_give_up_fsd(qemu, disk_image, tmp_path):
    """One program's children can hold job_processes_max (64) processes, not the whole
    table, and a start that fails for want of room is retried, not counted as a crash:
    fsd, killed at one of the attacker's requests (chaos=), comes back."""
    result = qemu(disk=hello_image(disk_image(0), tmp_path / "root"),
                  cmdline=f"chaos=services/fsd,seed=1,max=40,kills=1 run=tests/attack,procs {SECOND_CLIENT}", timeout=240)
    result.expect("INIT: tests/attack exited code=0")
    held = int(result.expect_match(r"ATTACK: (\d+) children hold the process table \(the next spawn: -8\)").group(1))
    assert held < 64, result.report("a job holds at most 64 processes, the attacker among them")
    result.expect_match(r"ATTACK: fsd died: 1; \d+ more entries taken as they freed up")
    assert "gave up on fsd" not in result.log, result.report("fsd was given up")
    result.expect("SUPERVISOR: restarted fsd (exit reason=killed, count=1) after 10 ms")
    result.expect("ATTACK: the children have ended; fs_connect: 0")
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    result.expect("INIT: done failures=0")
    result.expect_exit(EXIT_CLEAN_HALT)
