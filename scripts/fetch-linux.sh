#!/usr/bin/env bash
# Fetches Debian's Linux kernel image (linux-image-amd64; from
# bookworm-backports on Debian 12, which gives 6.12) for `make bench-linux`,
# without installing it: the package is downloaded and unpacked into
# $1 (default target/linux), and the path of its vmlinuz is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/linux}
mkdir -p "$out"
existing=$(ls "$out"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
if [ -n "$existing" ]; then
    echo "$existing"
    exit 0
fi
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
release=()
[ "$codename" = bookworm ] && release=(-t bookworm-backports)
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
# linux-image-amd64 is a metapackage; its one dependency is the image.
resolve() {
    apt-cache show "${release[@]}" linux-image-amd64 2>/dev/null |
        sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -n1
}
image=$(resolve)
if [ -z "$image" ]; then
    as_root apt-get update -qq
    image=$(resolve)
fi
if [ -z "$image" ]; then
    echo "fetch-linux: cannot resolve linux-image-amd64 (run apt-get update?)" >&2
    exit 1
fi
echo "fetch-linux: downloading $image" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "$image" >/dev/null)
dpkg-deb -x "$tmp"/*.deb "$out"
ls "$out"/boot/vmlinuz-* | head -n1
