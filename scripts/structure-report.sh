#!/usr/bin/env bash
# Prints the numbers issue 8 asks to watch: unsafe blocks per crate, the
# source files over 300 lines, the median file size, and rustdoc coverage
# per library crate. Usage: scripts/structure-report.sh [--no-docs]
set -euo pipefail
cd "$(dirname "$0")/.."

crates=(hotplug arch kernel kernel/shell kernel/queues boot)
echo "unsafe blocks (unsafe { ... }) per crate:"
for c in "${crates[@]}"; do
    [ -d "$c/src" ] || continue
    n=$(find "$c/src" -name '*.rs' -print0 | xargs -0 cat | sed 's://.*$::' |
        { grep -o 'unsafe *{' || true; } | wc -l)
    printf '  %-14s %s\n' "$c" "$n"
done

mapfile -t sizes < <(git ls-files '*.rs' | xargs wc -l | grep -v ' total$' | sort -n)
count=${#sizes[@]}
median=$(printf '%s\n' "${sizes[@]}" | awk '{print $1}' | sort -n | awk -v n="$count" 'NR == int((n + 1) / 2) {print}')
echo "source files: $count, median $median lines"
echo "files over 300 lines:"
printf '%s\n' "${sizes[@]}" | awk '$1 > 300 {printf "  %s %s\n", $1, $2}'

[ "${1:-}" = --no-docs ] && exit 0
echo "rustdoc coverage (documented items, share of all items):"
for lib in hotplug arch shell queues boot; do
    cargo metadata --no-deps --format-version 1 2>/dev/null | grep -q "\"name\":\"$lib\"" || continue
    out=$(cargo rustdoc -q -p "$lib" --lib -- -Z unstable-options --show-coverage 2>&1 || true)
    # Newer rustdoc writes the table to target/doc/<crate>.txt.
    [ -f "target/doc/$lib.txt" ] && out=$(cat "target/doc/$lib.txt")
    total=$(printf '%s\n' "$out" | grep -E '^\| Total' | awk -F'|' '{gsub(/ /, "", $3); gsub(/ /, "", $4); print $3 " documented, " $4}')
    printf '  %-8s %s\n' "$lib" "${total:-?}"
done
