"""Regression: unmapping a kernel-half page must invalidate its TLB entry whatever
page tables are loaded.

Kernel-half mappings are global and shared by every address space, so a CR3 switch
keeps them. unmap() used to invalidate only when the kernel's own tables were loaded;
a heap page freed during a system call (a process's tables loaded) kept a stale entry,
and the page's next use wrote through it into a freed frame. spawn200 hung about one
run in three. test=tlb frees and remaps a heap page with a process's tables loaded."""
from apus_qemu import EXIT_CLEAN_HALT


def test_kernel_half_unmap_is_invalidated_under_any_cr3(qemu):
    result = qemu(cmdline="test=tlb")
    result.expect("MM: tlb ok: kernel-half unmaps are invalidated whatever CR3 holds", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
