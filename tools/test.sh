#!/usr/bin/env bash
# tools/test.sh - install what is missing, then build and run the whole test
# suite twice: Release (build/) and Debug with ASan+UBSan (build-asan/).
# Then fuzzes every libFuzzer target briefly (build-fuzz/, clang).
# Finally installs the Release build into a temporary prefix and compiles
# and runs a small program against it through pkg-config.
# Works from any directory. Exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/deps.sh
tl_install_deps

jobs=$(nproc)
total_pass=0
total_fail=0
failed_parts=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/ticklake-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

# run_ctest NAME BUILD_DIR: runs ctest, adds its counts to the totals.
run_ctest() {
    local name=$1 bdir=$2 log="$logdir/$1.log" rc=0
    echo "== $name: ctest"
    (cd "$bdir" && ctest --output-on-failure -j"$jobs") 2>&1 | tee "$log" || rc=$?
    local line n_fail n_all
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
    if [ -z "$line" ]; then
        echo "== $name: ctest printed no summary (exit $rc)"
        total_fail=$((total_fail + 1))
        failed_parts+=("$name")
        return
    fi
    n_fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    n_all=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    total_pass=$((total_pass + n_all - n_fail))
    total_fail=$((total_fail + n_fail))
    if [ "$rc" -ne 0 ] || [ "$n_fail" -ne 0 ]; then
        failed_parts+=("$name")
        if [ "$n_fail" -eq 0 ]; then total_fail=$((total_fail + 1)); fi
    fi
    echo "== $name: $line"
}

# Interop peers (DuckDB, nodejs-polars) for tests/interop, pinned by
# tests/package-lock.json. Without node or the registry those tests report
# themselves skipped (exit 77), never passed.
echo "== interop: npm ci in tests/"
if ! command -v npm >/dev/null 2>&1; then
    tl_install_node || echo "== interop: no npm (interop tests will be skipped)"
fi
if command -v npm >/dev/null 2>&1; then
    (cd tests && npm ci --no-audit --no-fund --loglevel=error) ||
        echo "== interop: npm ci failed (interop tests will be skipped)"
fi

echo "== release: configure and build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
run_ctest release build

echo "== asan: configure and build (build-asan/, Debug, ASan+UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTL_SANITIZE=ON -DTL_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    run_ctest asan build-asan

# Fuzzing (tests/fuzz/run.sh): the libFuzzer targets built with clang
# (ASan + UBSan) in build-fuzz/, each fuzzed for TL_FUZZ_SECONDS (default
# 15) from its seed corpus, nproc at a time; a crash, leak, OOM (malloc over
# 2 GiB), timeout or build failure fails CI. One count per target.
echo "== fuzz: libFuzzer targets (clang, ASan+UBSan), ${TL_FUZZ_SECONDS:-15} s each"
fuzz_rc=0
bash tests/fuzz/run.sh -b build-fuzz -t "${TL_FUZZ_SECONDS:-15}" -j "$jobs" -o "$logdir/fuzz" \
    2>&1 | tee "$logdir/fuzz.log" || fuzz_rc=$?
n_fuzz_pass=$(grep -c '^fuzz: PASS ' "$logdir/fuzz.log" || true)
n_fuzz_fail=$(grep -c '^fuzz: FAIL ' "$logdir/fuzz.log" || true)
total_pass=$((total_pass + n_fuzz_pass))
total_fail=$((total_fail + n_fuzz_fail))
if [ "$fuzz_rc" -ne 0 ] || [ "$n_fuzz_pass" -eq 0 ]; then
    failed_parts+=(fuzz)
    if [ "$n_fuzz_fail" -eq 0 ]; then total_fail=$((total_fail + 1)); fi
fi

echo "== install: cmake --install into a temporary prefix, build against it with pkg-config"
install_ok=1
prefix="$logdir/prefix"
if cmake --install build --prefix "$prefix" >"$logdir/install.log" 2>&1; then
    pcdir=$(dirname "$(find "$prefix" -name ticklake.pc | head -n1)")
    cat >"$logdir/smoke.c" <<'C'
/* Uses the installed ticklake: writes a 3-row segment, reads it back. */
#include <stdio.h>
#include <string.h>
#include <ticklake.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const tl_coldef defs[] = {{"ts", TL_TIMESTAMP}, {"px", TL_FLOAT64}};
    int64_t ts[3] = {1, 2, 3};
    double px[3] = {10.05, 10.10, 10.15};
    tl_colvec cols[2] = {{.values = ts}, {.values = px}};
    tl_batch b = {.n_rows = 3, .n_cols = 2, .defs = defs, .cols = cols};
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    uint64_t rows = 0;
    tl_segment *s = NULL;
    if (tl_segment_writer_open(argv[1], defs, 2, NULL, &w, &err) != TL_OK ||
        tl_segment_writer_append(w, &b, &err) != TL_OK ||
        tl_segment_writer_finish(w, &rows, NULL, &err) != TL_OK ||
        tl_segment_open(argv[1], &s, &err) != TL_OK || tl_segment_verify(s, &err) != TL_OK) {
        fprintf(stderr, "smoke: %s\n", err.msg);
        return 1;
    }
    int ok = tl_segment_n_rows(s) == 3 && rows == 3;
    tl_segment_close(s);
    printf("smoke: ticklake %s, segment format %s, %s\n", tl_version(), tl_format_version(),
           ok ? "3 rows written and read back" : "WRONG ROW COUNT");
    return ok ? 0 : 1;
}
C
    if [ -d "$pcdir" ] && [ -x "$prefix/bin/ticklake" ] && [ -f "$prefix/include/ticklake/ticklake.h" ] &&
        cc -std=c17 -Wall -Wextra -Werror $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags ticklake) \
            "$logdir/smoke.c" -o "$logdir/smoke" \
            $(PKG_CONFIG_PATH="$pcdir" pkg-config --libs --static ticklake) &&
        "$logdir/smoke" "$logdir/smoke.tls" && "$prefix/bin/ticklake" --version; then
        echo "== install: ok (pkg-config --libs: $(PKG_CONFIG_PATH="$pcdir" pkg-config --libs --static ticklake))"
    else
        install_ok=0
    fi
else
    cat "$logdir/install.log"
    install_ok=0
fi
if [ "$install_ok" -eq 1 ]; then
    total_pass=$((total_pass + 1))
else
    echo "== install: FAILED"
    total_fail=$((total_fail + 1))
    failed_parts+=(install)
fi

echo
if [ "${#failed_parts[@]}" -eq 0 ]; then
    echo "test.sh: all passed (release ctest, asan ctest, fuzz, install check)"
else
    echo "test.sh: FAILED in: ${failed_parts[*]}"
fi
echo "test.sh: $total_pass passed, $total_fail failed"
[ "${#failed_parts[@]}" -eq 0 ]
