"""Did fsd survive? A trap prints nothing of its own, so the guard reads what the
supervisor (user/init/supervisor.c) prints when a server dies, is restarted or is
given up on, and fsd's own line when its loop stops: none may be there."""


def expect_fsd_alive(result) -> None:
    for line in result.lines:
        dead = (line.startswith("SUPERVISOR: fsd died") or line.startswith("SUPERVISOR: restarted fsd")
                or line.startswith("SUPERVISOR: gave up on fsd") or line.startswith("FSD: stopped"))
        assert not dead, result.report(f"fsd did not survive: {line}")
