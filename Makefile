# Apus build. Guest code (kernel, later user programs) is built here with the Swift
# toolchain's own swiftc, clang and ld.lld; host tools (abigen) with SwiftPM.
# Every output goes under out/. `make help` lists the targets.

OUT        := out
TOOLBIN    := $(dir $(shell command -v swiftc))
SWIFTC     := $(TOOLBIN)swiftc
CLANG      := $(TOOLBIN)clang
LD         := $(TOOLBIN)ld.lld
OBJCOPY    := $(TOOLBIN)llvm-objcopy
NM         := $(TOOLBIN)llvm-nm
DEMANGLE   := $(TOOLBIN)swift-demangle
PYTHON     ?= python3

# Compiler flags live here and only here; docs/build/toolchain.md explains each.
TARGET        := x86_64-unknown-none-elf
SHIM_INCLUDE  := arch/x86_64/shim/include
KERNEL_CFLAGS := -mno-red-zone -mcmodel=kernel -mno-sse -mno-mmx -msoft-float
KERNEL_DEBUG ?= 1
SWIFT_KERNEL_FLAGS := -target $(TARGET) -enable-experimental-feature Embedded \
    -wmo -parse-as-library -Osize -g -swift-version 6 -module-name Kernel \
    $(addprefix -Xcc ,$(KERNEL_CFLAGS)) -I $(SHIM_INCLUDE) $(if $(filter 1,$(KERNEL_DEBUG)),-D DEBUG)
ASFLAGS    := --target=$(TARGET) -g -ffreestanding -nostdinc -I $(SHIM_INCLUDE) $(KERNEL_CFLAGS)
LDFLAGS    := -nostdlib -static -z max-page-size=4096 --no-dynamic-linker \
    --defsym=free=kernel_heap_free

KERNEL_SWIFT := $(sort $(shell find kernel -name '*.swift'))
ARCH_ASM     := $(sort $(shell find arch/x86_64 -name '*.S'))
ARCH_OBJS    := $(patsubst %.S,$(OUT)/%.o,$(ARCH_ASM))
SHIM_HEADERS := $(wildcard $(SHIM_INCLUDE)/*)

# User programs: freestanding C against ulib, linked static at 4 MiB (boot/user.ld).
USER_CFLAGS := --target=$(TARGET) -ffreestanding -fno-builtin -nostdinc -fno-pic -O2 -g \
    -Wall -Wextra -Werror -std=c11 -fno-stack-protector \
    -isystem $(shell $(CLANG) -print-resource-dir)/include -I ulib/include -I ulib/generated
ULIB_C     := $(sort $(wildcard ulib/libc/*.c))
ULIB_OBJS  := $(patsubst %.c,$(OUT)/%.o,$(ULIB_C)) $(OUT)/ulib/crt/crt0.o $(OUT)/ulib/generated/syscall_stubs.o
USER_PROGRAMS := init tests/roundtrip tests/fault tests/child tests/spawn200 tests/hostile hello_swift bench/syscalls bench/block bench/fs bench/pkg bench/net tests/edge \
    tests/objects tests/memory tests/cpustate tests/stress tests/spinner tests/bigimage \
    tests/overstack tests/ipc tests/rpc tests/swift_ipc tests/pingpong tests/blkclient \
    tests/devgrants tests/fsclient tests/fshostile tests/crypto tests/sysfuzz tests/protofuzz \
    tests/timers tests/netclient tests/chaos tests/crashstart tests/watch tests/callerwatch \
    tests/replyhandles tests/memcharge tests/netlimits tests/pkgbuffers tests/names tests/attack tests/attack2 tests/strings \
    services/svcman services/blkdevd services/fsd services/pkgd services/netd
USER_ELFS  := $(addprefix $(OUT)/initrd/,$(USER_PROGRAMS))
# Not programs: files the tests need in the initrd.
INITRD_DATA := tests/notelf
INITRD     := $(OUT)/initrd.tar
# Every user program links the same way (boot/user.ld at 4 MiB).
LINK_USER   = @mkdir -p $(dir $@) && $(LD) -nostdlib -static -z max-page-size=4096 -T boot/user.ld -o $@ $(filter %.o,$^)

KERNEL_ELF := $(OUT)/kernel.elf
ISO        := $(OUT)/apus.iso
DEPS_STAMP := $(OUT)/.deps-ok

ABIGEN        := .build/debug/abigen
ABIGEN_INPUTS := Package.swift $(shell find gen/Sources -type f)
ABI_BASELINE  := spec/baseline/abi_v0.json

.PHONY: all deps build image disk packages media run fuzz protofuzz chaos debug bench test test-boot test-gen gen abi-check abi-baseline syms clean help
.DEFAULT_GOAL := build
# Keep intermediate objects (user programs are built through pattern rules).
.SECONDARY:
# $$(wildcard ...) in a pattern rule's prerequisites (services/%/).
.SECONDEXPANSION:

all: image

help:
	@echo "make deps    install missing Debian/PyPI packages (tools/install-deps.sh)"
	@echo "make build   build the kernel ELF ($(KERNEL_ELF))"
	@echo "make image   build the bootable ISO ($(ISO))"
	@echo "make run     boot the ISO with out/disk.img to the shell (serial on this terminal)"
	@echo "make disk    build out/disk.img (ext2, by mke2fs) from disk/ and the programs in /bin"
	@echo "make packages  build and sign the sample packages (out/packages/*.pkg) with mkpkg"
	@echo "make media   build out/media.img, the read-only disk with the packages (/media)"
	@echo "make fuzz    the syscall fuzzer, long: CALLS=1000000 [SEED=N] (out/fuzz.log), after make protofuzz"
	@echo "make protofuzz  the stateful protocol fuzzer against every server, long: MESSAGES=20000 [SEED=N]"
	@echo "make chaos   blkdevd killed KILLS=100 times under fsyncing writes [SEED=N]; checked on the host"
	@echo "make debug   boot paused, with QEMU's gdb stub on :1234 (see README)"
	@echo "make test    build everything and run every test"
	@echo "make bench   deterministic benchmarks (QEMU -icount: ticks are guest instructions)"
	@echo "make gen     regenerate every file abigen makes from spec/*.xml"
	@echo "make abi-check     generated files current, ABI compatible with $(ABI_BASELINE)"
	@echo "make abi-baseline  freeze the current ABI as the baseline (deliberately!)"
	@echo "make syms    sorted kernel symbol map ($(OUT)/kernel.syms)"
	@echo "make clean   remove $(OUT)/"

# --- dependencies ------------------------------------------------------------------
# The stamp makes the check cheap: the script runs again only when it changed or out/
# was cleaned. The script itself is idempotent and silent when nothing is missing.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/install-deps.sh
	@mkdir -p $(OUT)
	@tools/install-deps.sh
	@touch $@

# --- kernel -------------------------------------------------------------------------
build: $(KERNEL_ELF)

$(OUT)/kernel/kernel.o: $(KERNEL_SWIFT) $(SHIM_HEADERS) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(SWIFT_KERNEL_FLAGS) -c $(KERNEL_SWIFT) -o $@
	@touch $@  # swiftc keeps an unchanged object's old mtime; make needs a new one

$(OUT)/arch/%.o: arch/%.S $(SHIM_HEADERS) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CLANG) $(ASFLAGS) -c $< -o $@

$(OUT)/kernel.ld: boot/kernel.ld $(SHIM_INCLUDE)/kernel_layout.h
	@mkdir -p $(dir $@)
	$(CLANG) -E -P -undef -x c -DAPUS_LINKER_SCRIPT -I $(SHIM_INCLUDE) $< -o $@

$(KERNEL_ELF): $(OUT)/kernel/kernel.o $(ARCH_OBJS) $(OUT)/kernel.ld
	$(LD) $(LDFLAGS) -T $(OUT)/kernel.ld -Map=$(OUT)/kernel.map -o $@ $(ARCH_OBJS) $(OUT)/kernel/kernel.o
	@# The linked .debug_names index is the concatenation of each object's and lists
	@# none of Swift's line tables; gdb trusts it and then finds no Swift source lines.
	@# Without it gdb reads the DWARF itself (tests/tooling/test_gdb_source_lines.py).
	$(OBJCOPY) --remove-section=.debug_names $@

# Backtraces are named from kernel.sym, a boot module GRUB loads beside the kernel;
# kernel.syms is the same table as text, for people.
SYMBOL_MODULE := $(OUT)/kernel.sym
$(SYMBOL_MODULE): $(KERNEL_ELF) tools/mksyms.py
	$(NM) -n --defined-only $< | $(PYTHON) tools/mksyms.py $(DEMANGLE) $@

syms: $(OUT)/kernel.syms
$(OUT)/kernel.syms: $(KERNEL_ELF)
	$(NM) -n --defined-only $< | $(DEMANGLE) --simplified --compact > $@

# --- user programs and the initrd -----------------------------------------------------
$(OUT)/ulib/%.o: ulib/%.c $(wildcard ulib/include/*.h) ulib/generated/apus/syscall.h Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CLANG) $(USER_CFLAGS) -c $< -o $@

$(OUT)/ulib/%.o: ulib/%.S Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CLANG) --target=$(TARGET) -c $< -o $@

$(OUT)/user/%.o: user/%.c $(wildcard ulib/include/*.h user/tests/*.h user/bench/*.h user/init/*.h) ulib/generated/apus/syscall.h Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CLANG) $(USER_CFLAGS) -c $< -o $@

$(OUT)/initrd/init: $(OUT)/user/init/init.o $(OUT)/user/init/supervisor.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

# Programs that live on the disk, not in the initrd (they run after fsd): the shell
# and user/bin/*.c, installed as /bin/<name> by `make disk` (and by tests' images).
# ping is Embedded Swift (user/ping), a client of netd through the generated Swift client.
DISK_PROGRAMS := sh ping $(basename $(notdir $(wildcard user/bin/*.c)))
DISK_BINS := $(addprefix $(OUT)/bin/,$(DISK_PROGRAMS))
$(OUT)/bin/sh: $(OUT)/user/sh/sh.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)
$(OUT)/user/ping.o: $(wildcard user/ping/*.swift) $(SWIFT_ULIB) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(SWIFT_USER_FLAGS) -module-name Ping -c $(SWIFT_ULIB) $(wildcard user/ping/*.swift) -o $@
	@touch $@
$(OUT)/bin/ping: $(OUT)/user/ping.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)
$(OUT)/bin/%: $(OUT)/user/bin/%.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

# The system disk: disk/ plus /bin, made by the host's mke2fs (ext2 revision 1).
DISK_IMG := $(OUT)/disk.img
disk: $(DISK_IMG)
$(DISK_IMG): $(DISK_BINS) $(shell find disk -type f) Makefile | $(DEPS_STAMP)
	rm -rf $(OUT)/disk-root $@
	mkdir -p $(OUT)/disk-root/bin
	cp -r disk/. $(OUT)/disk-root/
	cp $(DISK_BINS) $(OUT)/disk-root/bin/
	mkdir -p $(OUT)/disk-root/media
	mke2fs -q -t ext2 -L apus -d $(OUT)/disk-root $@ 64M

# Packages (docs/packages.md): the sample apps, built, staged and signed by mkpkg with
# the repository's test key; media.img is the read-only disk that carries them.
MKPKG := .build/debug/mkpkg
MKPKG_SOURCES := Package.swift $(wildcard tools/mkpkg/*/*.swift)
$(MKPKG): $(MKPKG_SOURCES) | $(DEPS_STAMP)
	swift build --product mkpkg
	@touch $@

$(OUT)/apps/hello: $(OUT)/user/apps/hello/hello.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)
$(OUT)/user/apps/greet.o: $(wildcard user/apps/greet/*.swift) $(SWIFT_ULIB) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(SWIFT_USER_FLAGS) -module-name Greet -c $(SWIFT_ULIB) $(wildcard user/apps/greet/*.swift) -o $@
	@touch $@
$(OUT)/apps/greet: $(OUT)/user/apps/greet.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

$(OUT)/apps/udpecho: $(OUT)/user/apps/udpecho/udpecho.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

PACKAGES := $(OUT)/packages/hello-1.0.pkg $(OUT)/packages/greet-1.0.pkg $(OUT)/packages/udpecho-1.0.pkg
$(OUT)/packages/%-1.0.pkg: $(OUT)/apps/% $(MKPKG) keys/test-signing.key
	rm -rf $(OUT)/pkgroot/$* && mkdir -p $(OUT)/pkgroot/$*/bin $(dir $@)
	cp $< $(OUT)/pkgroot/$*/bin/$*
	$(MKPKG) build $(OUT)/pkgroot/$* --name $* --version 1.0 --summary "The sample app $*" --entry bin/$* \
	  --key keys/test-signing.key -o $@
packages: $(PACKAGES)

MEDIA_IMG := $(OUT)/media.img
media: $(MEDIA_IMG)
$(MEDIA_IMG): $(PACKAGES)
	rm -f $@
	mke2fs -q -t ext2 -L media -d $(OUT)/packages $@ 16M

$(OUT)/initrd/bench/%: $(OUT)/user/bench/%.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

# Asm-only test programs (tests/edge, tests/overstack): each has a linker script of its
# own, boot/user-NAME.ld, that puts a section where no ordinary program would. This
# rule comes first, so it wins wherever such a script exists.
$(OUT)/user/tests/%.o: user/tests/%.S Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CLANG) --target=$(TARGET) -c $< -o $@

$(OUT)/initrd/tests/%: $(OUT)/user/tests/%.o boot/user-%.ld
	@mkdir -p $(dir $@)
	$(LD) -nostdlib -static -z max-page-size=4096 -T boot/user-$*.ld -o $@ $<

$(OUT)/initrd/tests/%: $(OUT)/user/tests/%.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

# The initrd is a ustar archive (kernel/boot/Initrd.swift reads it), paths relative.
# Embedded Swift user programs: the generated bindings and the user runtime, compiled
# with the program as one module, linked with the C runtime (crt0, libc, stubs).
SWIFT_USER_FLAGS := -target $(TARGET) -enable-experimental-feature Embedded \
    -enable-experimental-feature Extern -wmo -parse-as-library -Osize -g -swift-version 6
SWIFT_ULIB := $(sort $(wildcard ulib/swift/generated/*.swift ulib/swift/runtime/*.swift))

$(OUT)/user/hello_swift.o: $(wildcard user/hello_swift/*.swift) $(SWIFT_ULIB) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(SWIFT_USER_FLAGS) -module-name HelloSwift -c $(SWIFT_ULIB) $(wildcard user/hello_swift/*.swift) -o $@
	@touch $@

$(OUT)/initrd/hello_swift: $(OUT)/user/hello_swift.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

CRYPTO_SWIFT := $(sort $(wildcard ulib/swift/crypto/*.swift))
$(OUT)/user/tests/crypto.o: $(wildcard user/tests/crypto/*.swift) $(SWIFT_ULIB) $(CRYPTO_SWIFT) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(SWIFT_USER_FLAGS) -module-name CryptoTest -c $(SWIFT_ULIB) $(CRYPTO_SWIFT) $(wildcard user/tests/crypto/*.swift) -o $@
	@touch $@

$(OUT)/user/tests/swift_ipc.o: $(wildcard user/tests/swift_ipc/*.swift) $(SWIFT_ULIB) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(SWIFT_USER_FLAGS) -module-name SwiftIpc -c $(SWIFT_ULIB) $(wildcard user/tests/swift_ipc/*.swift) -o $@
	@touch $@

# Servers (services/<name>/): Embedded Swift on the generated protocol code, built
# like the Swift user programs and installed in the initrd as services/<name>.
# A server that needs a shared driver library names it in SERVICE_LIBS_<name>.
VIRTIO_SWIFT := $(sort $(wildcard ulib/swift/virtio/*.swift))
SERVICE_LIBS_blkdevd := $(VIRTIO_SWIFT)
SERVICE_LIBS_netd := $(VIRTIO_SWIFT)
SERVICE_LIBS_pkgd = $(CRYPTO_SWIFT)
$(OUT)/services/%.o: $$(wildcard services/%/*.swift) $$(SERVICE_LIBS_$$*) $(SWIFT_ULIB) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SWIFTC) $(SWIFT_USER_FLAGS) -module-name $* -c $(SWIFT_ULIB) $(SERVICE_LIBS_$*) $(wildcard services/$*/*.swift) -o $@
	@touch $@

$(OUT)/initrd/services/%: $(OUT)/services/%.o $(ULIB_OBJS) boot/user.ld
	$(LINK_USER)

$(OUT)/initrd/tests/notelf: user/tests/notelf.txt
	@mkdir -p $(dir $@)
	cp $< $@

$(INITRD): $(USER_ELFS) $(addprefix $(OUT)/initrd/,$(INITRD_DATA))
	tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf $@ -C $(OUT)/initrd $(USER_PROGRAMS) $(INITRD_DATA)

# --- image --------------------------------------------------------------------------
image: $(ISO)

$(ISO): $(KERNEL_ELF) $(SYMBOL_MODULE) $(INITRD) boot/grub.cfg | $(DEPS_STAMP)
	@rm -rf $(OUT)/iso && mkdir -p $(OUT)/iso/boot/grub
	cp $(KERNEL_ELF) $(OUT)/iso/boot/kernel.elf
	cp $(SYMBOL_MODULE) $(OUT)/iso/boot/kernel.sym
	cp $(INITRD) $(OUT)/iso/boot/initrd.tar
	cp boot/grub.cfg $(OUT)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(OUT)/iso 2> $(OUT)/grub-mkrescue.log || { cat $(OUT)/grub-mkrescue.log; exit 1; }

# --- running ------------------------------------------------------------------------
# QEMU exits 33 when the kernel halts cleanly (isa-debug-exit, DESIGN.md §3).
run: $(ISO) $(DISK_IMG) $(MEDIA_IMG)
	@tools/run_qemu.sh --iso $(ISO) --disk $(DISK_IMG) --disk-ro $(MEDIA_IMG) --net --cmdline "run=/bin/sh" $(RUN_ARGS); status=$$?; \
	  if [ $$status -eq 33 ]; then echo "run: kernel halted cleanly"; \
	  else echo "run: QEMU exited $$status (35 = kernel panic)"; exit 1; fi

debug: $(ISO)
	@echo "QEMU is paused with a gdb stub on :1234. In another terminal:"
	@echo "  gdb $(KERNEL_ELF) -ex 'target remote :1234' -ex 'break kernel/sched/Scheduler.swift:38' -ex continue"
	@echo "  (then bt, list, next, p ...: Swift source lines and frames)"
	@tools/run_qemu.sh --iso $(ISO) --gdb $(RUN_ARGS) || true

# Benchmarks: the guest TSC counts instructions under -icount shift=0, so the figures
# are the same on every run and machine (DESIGN.md §7).
# The block and filesystem benchmarks use a scratch disk, freshly formatted; blk_read_seq_wall comes from a second boot
# without -icount, because MB/s needs the host's clock, and udp_echo_rtt_wall from a third
# (tools/udp_echo_rtt.py: a host socket times round trips through udpecho).
BENCH_MEDIA := $(OUT)/bench-media.img
$(BENCH_MEDIA): $(OUT)/apps/hello $(MKPKG) keys/test-signing.key
	rm -rf $(OUT)/bench-pkg $(OUT)/bench-media && mkdir -p $(OUT)/bench-pkg/bin $(OUT)/bench-pkg/share $(OUT)/bench-media
	cp $(OUT)/apps/hello $(OUT)/bench-pkg/bin/bench
	head -c $$((1024 * 1024 - $$(stat -c %s $(OUT)/apps/hello))) /dev/zero | tr '\0' 'a' > $(OUT)/bench-pkg/share/data
	$(MKPKG) build $(OUT)/bench-pkg --name bench --version 1.0 --summary "1 MiB for make bench" --entry bin/bench \
	  --key keys/test-signing.key -o $(OUT)/bench-media/bench-1.0.pkg
	rm -f $@ && mke2fs -q -t ext2 -d $(OUT)/bench-media $@ 8M

bench: $(ISO) $(BENCH_MEDIA) $(DISK_IMG) $(MEDIA_IMG)
	@rm -f $(OUT)/bench-disk.img && mke2fs -q -t ext2 $(OUT)/bench-disk.img 64M
	@tools/run_qemu.sh --iso $(ISO) --icount --timeout 300 --disk $(OUT)/bench-disk.img --disk-ro $(BENCH_MEDIA) --net --cmdline bench > $(OUT)/bench.log 2>&1; status=$$?; \
	  grep '^BENCH ' $(OUT)/bench.log; \
	  if [ $$status -ne 33 ]; then echo "bench: QEMU exited $$status; log in $(OUT)/bench.log"; exit 1; fi
	@tools/run_qemu.sh --iso $(ISO) --timeout 120 --disk $(OUT)/bench-disk.img --cmdline "init=tool=bench/block run=bench/block,wall" > $(OUT)/bench-wall.log; status=$$?; \
	  grep '^BENCH ' $(OUT)/bench-wall.log; \
	  if [ $$status -ne 33 ]; then echo "bench: QEMU exited $$status; log in $(OUT)/bench-wall.log"; exit 1; fi
	@$(PYTHON) tools/udp_echo_rtt.py $(DISK_IMG) $(MEDIA_IMG)

# The syscall fuzzer, long (issue 14): `make fuzz CALLS=1000000 [SEED=N]`; a random
# seed unless one is given. Findings (with their seed and call number) are the
# SYSFUZZ: FINDING lines; the log is out/fuzz.log.
CALLS ?= 1000000
fuzz: $(ISO) protofuzz
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; echo "fuzz: seed=$$seed calls=$(CALLS)"; \
	  tools/run_qemu.sh --iso $(ISO) --timeout 3000 --cmdline "run=tests/sysfuzz,seed=$$seed,calls=$(CALLS)" > $(OUT)/fuzz.log; status=$$?; \
	  grep -a "SYSFUZZ: FINDING\|SYSFUZZ: seed\|^MM: free.*init\|PANIC" $(OUT)/fuzz.log | tr -d '.'; \
	  if [ $$status -ne 33 ]; then echo "fuzz: QEMU exited $$status; log in $(OUT)/fuzz.log"; exit 1; fi; \
	  if grep -aq "SYSFUZZ: FINDING" $(OUT)/fuzz.log; then echo "fuzz: findings with seed=$$seed (out/fuzz.log)"; exit 1; fi

# The stateful protocol fuzzer, long (issue 21): `make protofuzz MESSAGES=20000 [SEED=N]`
# fuzzes each server (svcman, blkdevd on a scratch disk, fsd on a fresh copy of the
# system disk, pkgd, netd) with MESSAGES messages, children killed mid-request and a
# second client after; make test runs the same, short (tests/fuzz/test_protofuzz.py).
# It fails on a FINDING line (with its seed), a server the supervisor saw die or
# restarted, or a hang; the log is out/protofuzz.log, counts are the PROTOFUZZ: lines.
MESSAGES ?= 20000
PROTOFUZZ_SERVERS := registry block fs pkg net
protofuzz: $(ISO) $(DISK_IMG)
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; echo "protofuzz: seed=$$seed messages=$(MESSAGES)"; \
	  cp $(DISK_IMG) $(OUT)/protofuzz-system.img && rm -f $(OUT)/protofuzz-scratch.img && truncate -s 8M $(OUT)/protofuzz-scratch.img; \
	  runs=""; for name in $(PROTOFUZZ_SERVERS); do runs="$$runs run=tests/protofuzz,seed=$$seed,messages=$(MESSAGES),patience=60,only=$$name"; done; \
	  tools/run_qemu.sh --iso $(ISO) --timeout 20000 --disk $(OUT)/protofuzz-system.img --disk $(OUT)/protofuzz-scratch.img --net \
	    --cmdline "init=tool=tests/protofuzz$$runs" > $(OUT)/protofuzz.log; status=$$?; \
	  grep -a "PROTOFUZZ: \|SUPERVISOR: .*\(died\|restarted\|gave up\)\|PANIC" $(OUT)/protofuzz.log | grep -av "second client: "; \
	  if [ $$status -ne 33 ]; then echo "protofuzz: QEMU exited $$status; log in $(OUT)/protofuzz.log"; exit 1; fi; \
	  if grep -aq "PROTOFUZZ: FINDING\|SUPERVISOR: .*\(died\|restarted\|gave up\)" $(OUT)/protofuzz.log; then \
	    echo "protofuzz: findings with seed=$$seed (out/protofuzz.log)"; exit 1; fi; \
	  e2fsck -fn $(OUT)/protofuzz-system.img > /dev/null || { echo "protofuzz: fsd left the system disk inconsistent"; exit 1; }

# The supervisor's chaos run (issue 16): blkdevd killed 100 times at seeded random
# requests while files are written and fsynced; the host then reads back every fsynced
# file and runs e2fsck. make test runs the same with 20 kills.
KILLS ?= 100
chaos: $(ISO) $(DISK_BINS)
	APUS_CHAOS_KILLS=$(KILLS) APUS_CHAOS_SEED=$${SEED:-16} $(PYTHON) -m pytest -q -s tests/supervisor/test_chaos.py

# --- ABI generator ------------------------------------------------------------------
# Generated files are committed (kernel/generated, ulib/generated, ulib/swift/generated,
# docs/abi), so building the kernel never needs abigen; `make test` fails if they are
# stale. See README "Changing the ABI".
$(ABIGEN): $(ABIGEN_INPUTS) | $(DEPS_STAMP)
	swift build --product abigen
	@touch $@

gen: $(ABIGEN)
	$(ABIGEN) generate

abi-check: $(ABIGEN)
	$(ABIGEN) verify
	$(ABIGEN) check --baseline $(ABI_BASELINE)

abi-baseline: $(ABIGEN)
	$(ABIGEN) dump --output $(ABI_BASELINE)

# --- tests --------------------------------------------------------------------------
test: test-gen abi-check test-boot

test-gen: | $(DEPS_STAMP)
	swift test

test-boot: $(ISO) $(DISK_BINS) $(PACKAGES)
	$(PYTHON) -m pytest -q tests

clean:
	rm -rf $(OUT)
