# Build, run and test the hotplug kernel. See README.md.
#
#   make run   [SMP=4] [MACHINE=q35] [CPU=max] [FIRMWARE=bios] [MEM=512M] [QEMU_EXTRA=...]
#   make test  [TEST_THREADS=2]

SMP        ?= 4
MACHINE    ?= q35
CPU        ?= max
FIRMWARE   ?= bios
MEM        ?= 512M
QEMU_EXTRA ?=
# The host has 2 cores and every QEMU test is a TCG guest: more parallel
# guests only make each one slower and risk its deadlines.
TEST_THREADS ?= 2

CARGO      ?= cargo
# The bootloader crate's build script runs `cargo install` for its stages;
# an inherited CARGO_TARGET_DIR points that nested cargo at our own locked
# target directory and deadlocks the build. Paths below assume target/.
unexport CARGO_TARGET_DIR
KERNEL_ELF := target/x86_64-unknown-none/release/kernel
IMAGE_DIR  := target/images

.PHONY: all deps kernel images run debug trace test test-host test-boot torture bench bench-big bench-linux bench-acpi fmt fmt-check clippy clean

all: images

deps:
	scripts/install-deps.sh

kernel: deps
	$(CARGO) build -p kernel --release

images: kernel
	$(CARGO) run -p boot --release --bin mkimage -- $(KERNEL_ELF) $(IMAGE_DIR)

run: images
	$(CARGO) run -p boot --release --bin run -- \
		--smp '$(SMP)' --machine '$(MACHINE)' --cpu '$(CPU)' \
		--firmware '$(FIRMWARE)' --memory '$(MEM)' --image-dir $(IMAGE_DIR) \
		-- $(QEMU_EXTRA)

# QEMU stopped before its first instruction (-S) with its gdb stub on
# GDB_PORT, and gdb connected with the kernel's symbols and each vCPU's
# thread named cpuN. The console goes to target/debug-serial.log.
GDB_PORT ?= 1234
debug: images
	$(CARGO) run -p boot --release --bin debug -- --kernel $(KERNEL_ELF) \
		--smp '$(SMP)' --machine '$(MACHINE)' --cpu '$(CPU)' --firmware '$(FIRMWARE)' \
		--memory '$(MEM)' --image-dir $(IMAGE_DIR) --port $(GDB_PORT) \
		--serial target/debug-serial.log

# Boot bring-up and a scenario (TRACE_CMDS='offline 2; online 2' gives
# another) traced, written to target/trace/hotplug.json for Perfetto.
trace: images
	$(CARGO) run -p boot --release --bin trace -- \
		--smp '$(SMP)' --machine '$(MACHINE)' --cpu '$(CPU)' \
		--firmware '$(FIRMWARE)' --memory '$(MEM)' --image-dir $(IMAGE_DIR) \
		--out target/trace -- $(QEMU_EXTRA)

test: images test-host test-boot

# Host unit and property tests of the pure crates, then the rule that no
# source file imports, directly or in a ring, a file that imports it.
test-host: deps
	$(CARGO) test -p hotplug -p shell -p queues -p logring -p topology
	python3 scripts/import-cycles.py

# Host unit tests of the boot crate, then the QEMU boot tests.
test-boot: images
	$(CARGO) test -p boot --release --no-fail-fast -- --test-threads=$(TEST_THREADS) --nocapture

# The long torture run: 100,000 random operations with faults on 8 CPUs,
# and about one hang (a CPU forced offline) every 500 operations.
TORTURE_OPS ?= 100000
TORTURE_HANG_EVERY ?= 500
torture: images
	HP_TORTURE_OPS=$(TORTURE_OPS) HP_TORTURE_HANG_EVERY=$(TORTURE_HANG_EVERY) \
		$(CARGO) test -p boot --release --test torture -- --nocapture

# Hotplug latency and boot bring-up with -smp 4, 16, 64 (and 255 for boot),
# then one -smp 64 guest: where the boot bring-up goes (boot trace), and
# `offline all`/`online all` against 63 single moves, calibration reuse on
# and off.
BENCH_CYCLES ?= 10
BENCH_ROUNDS ?= 3
bench: images
	$(CARGO) run -p boot --release --bin bench -- --cycles $(BENCH_CYCLES) --rounds $(BENCH_ROUNDS)

# The very large machines, one at a time: -smp 1024 on BIOS and -smp 512
# on UEFI (q35, qemu64,+x2apic, 4G): time to the prompt and boot bring-up.
# About 2.5 minutes; SeaBIOS alone takes 90 s at 1024 CPUs.
bench-big: images
	$(CARGO) run -p boot --release --bin bench -- --big

# The same table for Debian's Linux (linux-image-amd64, unpacked, not
# installed) on the same QEMU flags, with the ratio, at -smp 4, 16, 64 and
# 255 (boot only above 64).
LINUX_DIR := target/linux
# Linux's delay-loop rate for every AP (lpj=, its own advice when it cannot
# measure it): the TSC rate over CONFIG_HZ=250. Without it each AP spends
# 20 s or more measuring under TCG at 255 CPUs. Empty: Linux measures.
LINUX_LPJ ?= $(shell awk '/^cpu MHz/ { printf "%d", $$4 * 4000; exit }' /proc/cpuinfo)
bench-linux: images
	scripts/fetch-linux.sh $(LINUX_DIR) > $(LINUX_DIR).path
	test -f /usr/lib/x86_64-linux-gnu/libc.a || scripts/install-deps.sh --static-libc
	gcc -static -O2 -Wall -o $(LINUX_DIR)/init scripts/linux-bench/init.c
	$(CARGO) run -p boot --release --bin bench-linux -- --kernel "$$(cat $(LINUX_DIR).path)" \
		--init $(LINUX_DIR)/init --cycles $(BENCH_CYCLES) $(if $(LINUX_LPJ),--lpj $(LINUX_LPJ))

# Physical hotplug's figures: medians over 21 tries from QMP device_add to
# `event: cpuN online` and from device_del to DEVICE_DELETED, and CPU 0's
# idle interrupts over 5 s (boot/tests/acpi_bench.rs, ignored by `test`).
bench-acpi: images
	$(CARGO) test -p boot --release --test acpi_bench -- --ignored --nocapture

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

# --release throughout: the bootloader build script (minutes) is then
# shared with `make images` instead of being run again for the dev profile.
clippy:
	$(CARGO) clippy -p kernel -p arch --release -- -D warnings
	$(CARGO) clippy -p hotplug -p shell -p queues -p logring -p topology -p boot --release --all-targets -- -D warnings

clean:
	$(CARGO) clean
