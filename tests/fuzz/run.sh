#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer targets with clang (ASan + UBSan,
# libFuzzer coverage in the libraries too) and fuzz each for a bounded time.
# Used by tools/test.sh (short runs, CI) and for the figures of
# tests/reliability/FUZZ.md (long runs, one target at a time, niced).
#
#   tests/fuzz/run.sh [-b BUILD_DIR] [-t SECONDS] [-j JOBS] [-o OUT_DIR]
#                     [-n NICE] [--no-build] [TARGET...]
#
#   -b  build directory (default build-fuzz, relative to the repository)
#   -t  seconds of fuzzing per target (-max_total_time; default 20)
#   -j  targets fuzzed at once (default 1)
#   -o  where working corpora, logs and crash artifacts go (default a new
#       temporary directory, printed). The seed corpora in tests/fuzz/corpus/
#       are copied, never written.
#   -n  run the fuzzers under `nice -n NICE`
#   TARGET  fuzz_<name> or <name>; default every tests/fuzz/fuzz_*.c
#
# Every fuzzer runs with -malloc_limit_mb=2048 -rss_limit_mb=2560
# -timeout=10 (seconds per input). A crash, sanitizer report, leak,
# out-of-memory, timeout or a fuzzer that did not finish is a failure.
# Prints one line per target:
#   fuzz: PASS|FAIL NAME execs=N exec/s=N crashes=N ooms=N leaks=N
#         timeouts=N slow=N corpus=N(seeds S) cov=N ft=N rss_mb=N
# and exits 1 if any target failed, 2 on a usage or build error.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bdir=build-fuzz
secs=20
jobs=1
out=
nice_n=
build=1
targets=()
while [ $# -gt 0 ]; do
    case $1 in
    -b) bdir=$2; shift 2 ;;
    -t) secs=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -n) nice_n=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("fuzz_${1#fuzz_}"); shift ;;
    esac
done
if [ "${#targets[@]}" -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$f" .c)")
    done
fi
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/ticklake-fuzz.XXXXXX")
mkdir -p "$out"
out=$(cd "$out" && pwd)
echo "fuzz: ${#targets[@]} targets, ${secs} s each, $jobs at a time; output in $out"

if [ "$build" -eq 1 ]; then
    cc=${TL_FUZZ_CC:-clang}
    if ! command -v "$cc" >/dev/null 2>&1; then
        echo "fuzz: $cc not found (tools/deps.sh installs clang)" >&2
        exit 2
    fi
    if ! CC=$cc cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTL_BUILD_FUZZ=ON \
        -DTL_SANITIZE=ON -DTL_BUILD_TESTS=OFF -DTL_BUILD_BENCH=OFF >"$out/configure.log" 2>&1; then
        cat "$out/configure.log"
        echo "fuzz: configure failed" >&2
        exit 2
    fi
    if ! cmake --build "$bdir" -j"${TL_FUZZ_BUILD_JOBS:-$(nproc)}" --target "${targets[@]}" \
        >"$out/build.log" 2>&1; then
        tail -n 60 "$out/build.log"
        echo "fuzz: build failed" >&2
        exit 2
    fi
fi

# fuzz_one NAME: fuzz one target; writes $out/NAME.result (the summary line).
fuzz_one() {
    local name=$1 exe seeds work log rc=0
    exe="$bdir/tests/fuzz/$name"
    seeds="tests/fuzz/corpus/$name"
    work="$out/corpus/$name"
    log="$out/$name.log"
    mkdir -p "$work" "$out/artifacts"
    local n_seeds=0
    if [ -d "$seeds" ]; then
        cp -p "$seeds"/* "$work"/ 2>/dev/null || true
        n_seeds=$(find "$seeds" -maxdepth 1 -type f | wc -l)
    fi
    if [ ! -x "$exe" ]; then
        echo "fuzz: FAIL $name (no binary $exe)" >"$out/$name.result"
        return
    fi
    local pre=()
    [ -n "$nice_n" ] && pre=(nice -n "$nice_n")
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "${pre[@]}" "$exe" -max_total_time="$secs" -malloc_limit_mb=2048 -rss_limit_mb=2560 \
        -timeout=10 -report_slow_units=2 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$name-" "$work" >"$log" 2>&1 || rc=$?
    local execs eps rss cov ft slow crashes ooms leaks touts corpus
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)
    eps=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)
    rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)
    cov=$(grep -o ' cov: [0-9]*' "$log" | tail -n1 | grep -o '[0-9]*')
    ft=$(grep -o ' ft: [0-9]*' "$log" | tail -n1 | grep -o '[0-9]*')
    crashes=$(find "$out/artifacts" -name "$name-crash-*" | wc -l)
    ooms=$(find "$out/artifacts" -name "$name-oom-*" | wc -l)
    leaks=$(find "$out/artifacts" -name "$name-leak-*" | wc -l)
    touts=$(find "$out/artifacts" -name "$name-timeout-*" | wc -l)
    slow=$(find "$out/artifacts" -name "$name-slow-unit-*" | wc -l)
    corpus=$(find "$work" -maxdepth 1 -type f | wc -l)
    local verdict=PASS
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ "$ooms" -ne 0 ] || [ "$leaks" -ne 0 ] ||
        [ "$touts" -ne 0 ] || [ -z "$execs" ]; then
        verdict=FAIL
    fi
    echo "fuzz: $verdict $name execs=${execs:-?} exec/s=${eps:-?} crashes=$crashes ooms=$ooms" \
        "leaks=$leaks timeouts=$touts slow=$slow corpus=$corpus(seeds $n_seeds)" \
        "cov=${cov:-?} ft=${ft:-?} rss_mb=${rss:-?} rc=$rc" >"$out/$name.result"
    if [ "$verdict" = FAIL ]; then
        {
            echo "---- $log (last 40 lines)"
            tail -n 40 "$log"
        } >>"$out/$name.result"
    fi
}

running=0
for name in "${targets[@]}"; do
    fuzz_one "$name" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

fails=0
for name in "${targets[@]}"; do
    cat "$out/$name.result"
    head -n1 "$out/$name.result" | grep -q '^fuzz: PASS' || fails=$((fails + 1))
done
echo "fuzz: $((${#targets[@]} - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
