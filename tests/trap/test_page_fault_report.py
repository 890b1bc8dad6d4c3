"""M1: a kernel page fault is reported with the address, decoded error and a backtrace."""
from apus_qemu import EXIT_PANIC

ADDRESS = "0xffffc000deadb000"  # TestHooks.unmappedAddress


def test_page_fault_report(qemu):
    result = qemu(cmdline="test=pagefault")
    result.expect(f"TEST: writing to {ADDRESS}")
    [pf] = [line for line in result.lines if line.startswith("PF: addr=")]
    assert pf.startswith(f"PF: addr={ADDRESS} err=0x2 rip=0xffffffff8"), result.report("PF line")
    result.expect("PF: present=0 write=1 user=0 reserved=0 fetch=0")
    backtrace = result.lines_starting("BACKTRACE:")
    assert backtrace and "TestHooks.writeToUnmappedAddress()" in backtrace[0], result.report("frame 0 unnamed")
    assert any("kmain" in line for line in backtrace[1:]), result.report("backtrace does not reach kmain")
    result.expect(f"KERNEL: panic code=0x09 reason=kernel page fault at {ADDRESS}")
    result.expect_exit(EXIT_PANIC)
