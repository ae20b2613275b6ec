#!/usr/bin/env bash
# Installs what `make run` and `make test` need and is missing: the pinned
# toolchain (rustup does not add missing components by itself), QEMU >= 8.1
# (for x2APIC under TCG; Debian 12 needs bookworm-backports), OVMF, and gdb
# (`make debug` and its boot test).
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_qemu() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 || return 0
    local v
    v=$(qemu-system-x86_64 --version | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
    read -r major minor <<<"$v"
    [ "${major:-0}" -lt 8 ] || { [ "$major" -eq 8 ] && [ "${minor:-0}" -lt 1 ]; }
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# `--static-libc`: what `make bench-linux` needs to build its static /init.
if [ "${1:-}" = --static-libc ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev
    exit 0
fi

if need_qemu || [ ! -f /usr/share/ovmf/OVMF.fd ]; then
    echo "install-deps: installing QEMU >= 8.1 and OVMF" >&2
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [ "$codename" = bookworm ] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d; then
        echo "deb http://deb.debian.org/debian bookworm-backports main" |
            as_root tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    fi
    as_root apt-get update -qq
    if [ "$codename" = bookworm ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86
    else
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ovmf
fi

if ! command -v gdb >/dev/null 2>&1; then
    echo "install-deps: installing gdb" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gdb
fi

if ! command -v rustup >/dev/null 2>&1; then
    echo "install-deps: rustup is required (https://rustup.rs)" >&2
    exit 1
fi
# Installs the channel, components and targets listed in rust-toolchain.toml.
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
