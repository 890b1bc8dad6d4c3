"""M6a: the shell on the serial console. The test types commands as a person would
(the kernel's line discipline echoes them), checks what each prints, runs programs
from the disk, interrupts one with Ctrl-C, and ends with halt; then the host's
e2fsck judges the disk and debugfs reads what the shell wrote."""
import pytest

from apus_qemu import EXIT_CLEAN_HALT
from console_session import PROMPT, ConsoleSession
from ext2image import debugfs, e2fsck, make_image, with_programs


@pytest.fixture
def shell_disk(disk_image, tmp_path):
    folder = with_programs(tmp_path / "root")
    (folder / "hello.txt").write_text("hello from the disk\n")
    return make_image(disk_image(0), folder)


def test_a_shell_session(shell_disk, request):
    session = ConsoleSession(request.node.name, cmdline="run=/bin/sh", disk=shell_disk)
    session.wait_for(PROMPT)
    listing = session.command("ls /")
    for name in ("bin/", "hello.txt", "lost+found/"):
        assert name in listing.splitlines(), listing
    assert session.command("cat /hello.txt") == "hello from the disk\n"
    assert session.command("echo kept by the shell > /kept") == ""
    assert session.command("cat /kept") == "kept by the shell\n"
    assert session.command("mkdir /made") == ""
    assert "made/" in session.command("ls").splitlines()
    assert session.command("echo gone > /gone") == ""
    assert session.command("rm /gone") == ""
    assert session.command("cat /gone") == "cat: /gone: no such file or directory\n"
    assert session.command("echo $?") == "1\n"
    assert session.command("nosuch") == "sh: nosuch: command not found (try help)\n"
    assert session.command("echo $?") == "127\n"
    assert session.command("args a b") == "hello from the disk: /bin/args a b\n"
    assert session.command("run /bin/args x") == "hello from the disk: /bin/args x\n"
    assert session.command("run /hello.txt").endswith("run: /hello.txt: not a program\n")  # after the kernel's ELF line
    assert "commands:" in session.command("help")
    # Backspace edits the line before the shell sees it.
    assert session.command("echo typo\x7f\x7f\x7f\x7fright").endswith("right\n")
    session.type("halt\r")
    session.wait_for("sh: halting (filesystem synced)")
    result = session.finish()
    result.expect("INIT: /bin/sh exited code=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(shell_disk)
    assert check.returncode == 0, check.stdout
    assert debugfs(shell_disk, "cat /kept") == b"kept by the shell\n"
    assert b"made" in debugfs(shell_disk, "ls /")


def test_ctrl_c_ends_the_program_and_the_shell_goes_on(shell_disk, request):
    session = ConsoleSession(request.node.name, cmdline="run=/bin/sh", disk=shell_disk)
    session.wait_for(PROMPT)
    session.type("spin\r")
    session.wait_for("spin: running until Ctrl-C")
    session.type("\x03")
    session.wait_for("^C")
    session.wait_for(PROMPT)
    assert session.command("echo $?") == "133\n"  # 128 + killed (5)
    assert session.command("echo still here") == "still here\n"
    session.type("\x04")  # Ctrl-D on an empty line: the shell ends
    result = session.finish()
    result.expect("INIT: /bin/sh exited code=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
