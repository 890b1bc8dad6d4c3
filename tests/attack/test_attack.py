"""Issue 21 attacked as a hostile ORDINARY program would (tests/attack, started by
init's run= with the lookup-only registry handle): every per-client limit is counted
per process (the sender id), and any program may start processes, so one program with
a few children of its own takes the whole of a server's global table. Each test ends
with a second client, and the client the attacker's run started as a separate process
of its own, which must still be served. These tests FAIL on the branch they were
written against: they demonstrate the holes."""
from apus_qemu import EXIT_CLEAN_HALT
from ext2image import make_image
from fsd_guard import expect_fsd_alive

SECOND_CLIENT = "run=tests/fsclient,hash,/hello.txt"


def hello_image(disk_image, tmp_path):
    folder = tmp_path / "root"
    folder.mkdir(parents=True)
    (folder / "hello.txt").write_text("hello\n")
    return make_image(disk_image(0), folder, size_mib=32)


def served_again(result):
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    result.expect("INIT: tests/fsclient exited code=0")
    expect_fsd_alive(result)


def test_attack_32_children_take_every_fsd_buffer(qemu, disk_image, tmp_path):
    """ClientBuffers keeps 32 entries for all of fsd's clients and never frees a live
    one's: 32 children attaching one 8 KiB buffer each leave no client able to
    connect to fsd (the shell, pkgd, anybody) for as long as they live."""
    result = qemu(disk=hello_image(disk_image, tmp_path), cmdline=f"run=tests/attack,buffers {SECOND_CLIENT}", timeout=180)
    result.expect("INIT: tests/attack exited code=0")
    result.expect_match(r"ATTACK: \d+ hold-buffer children started, reports:.*")
    result.expect("ATTACK: another client's fs_connect and stat: 0")
    served_again(result)


def test_attack_4_children_take_every_fsd_open_file(qemu, disk_image, tmp_path):
    """open_max (64) is per process and fsd's table 256: four children of one program
    hold them all, and another client's open is too_many_open."""
    result = qemu(disk=hello_image(disk_image, tmp_path), cmdline=f"run=tests/attack,files {SECOND_CLIENT}", timeout=180)
    result.expect("INIT: tests/attack exited code=0")
    result.expect_match(r"ATTACK: \d+ hold-files children started, reports:.*")
    result.expect("ATTACK: another client's fs_open: 0")
    served_again(result)


def test_attack_4_children_take_every_waiting_lookup(qemu, disk_image, tmp_path):
    """svcman keeps 4 waiting lookups per process and 16 in all: four children of one
    program hold them all, and another client's waiting lookup (the one fs_spawn's
    and pkgd's reconnect make while fsd restarts) is busy instead of waiting."""
    result = qemu(disk=hello_image(disk_image, tmp_path), cmdline=f"run=tests/attack,waiters {SECOND_CLIENT}", timeout=180)
    result.expect("INIT: tests/attack exited code=0")
    result.expect_match(r"ATTACK: \d+ hold-waits children started, reports:.*")
    result.expect("ATTACK: another client's waiting lookup: 9999")
    served_again(result)


def test_attack_a_full_process_table_makes_the_supervisor_give_up_fsd(qemu, disk_image, tmp_path):
    """Live processes are a global table (256): one program's children fill it, so
    when fsd dies (chaos= kills it at one of the attacker's requests) each restart
    is a failed start, five failed starts in the window give fsd up, and it is still
    given up when the children have ended: nobody is served by fsd any more."""
    result = qemu(disk=hello_image(disk_image, tmp_path),
                  cmdline=f"chaos=services/fsd,seed=1,max=40,kills=1 run=tests/attack,procs {SECOND_CLIENT}", timeout=240)
    result.expect("INIT: tests/attack exited code=0")
    result.expect_match(r"ATTACK: \d+ children hold the process table .*")
    result.expect_match(r"ATTACK: fsd died: 1; \d+ more entries taken as they freed up")
    assert "gave up on fsd" not in result.log, result.report("fsd was given up")
    result.expect("ATTACK: the children have ended; fs_connect: 0")
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
