"""M6b: the guest's SHA-256, SHA-512 and Ed25519 (ulib/swift/crypto) against the
FIPS 180-4 / RFC 6234 and RFC 8032 vectors, each signature also tampered four ways;
signatures made on the host by mkpkg are checked by pkgd in test_pkg_install_run."""
from apus_qemu import EXIT_CLEAN_HALT


def test_published_vectors(qemu):
    result = qemu(cmdline="run=tests/crypto run=tests/crypto,sha256,hello")
    result.expect("CRYPTO: vectors ok", "INIT: tests/crypto exited code=0")
    result.expect("CRYPTO: sha256 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    result.expect_exit(EXIT_CLEAN_HALT)
