#!/usr/bin/env bash
# tests/fuzz/merge.sh - add the interesting units of a fuzzing run to the seed
# corpora: for each target, libFuzzer -merge=1 over (the seeds, the run's
# working corpus) keeps only units that add coverage beyond the seeds; of
# those, the smallest up to MAX_UNITS bytes, at most MAX_NEW per target, are
# copied to tests/fuzz/corpus/<target>/fz_<sha1 prefix>.
#
#   tests/fuzz/merge.sh [-b BUILD_DIR] [-n MAX_NEW] [-s MAX_UNITS] RUN_DIR [TARGET...]
#
# RUN_DIR is tests/fuzz/run.sh's -o directory (its corpus/<target>/). The
# build directory must hold the libFuzzer binaries (default build-fuzz).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bdir=build-fuzz
max_new=20
max_bytes=2048
while [ $# -gt 0 ]; do
    case $1 in
    -b) bdir=$2; shift 2 ;;
    -n) max_new=$2; shift 2 ;;
    -s) max_bytes=$2; shift 2 ;;
    *) break ;;
    esac
done
run=${1:?usage: merge.sh [-b DIR] [-n N] [-s BYTES] RUN_DIR [TARGET...]}
shift
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    for d in "$run"/corpus/fuzz_*; do targets+=("$(basename "$d")"); done
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ticklake-merge.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for t in "${targets[@]}"; do
    t=fuzz_${t#fuzz_}
    seeds=tests/fuzz/corpus/$t
    work=$run/corpus/$t
    [ -d "$work" ] || { echo "merge: $t: no $work"; continue; }
    mkdir -p "$tmp/$t" "$seeds"
    cp -p "$seeds"/* "$tmp/$t"/ 2>/dev/null || true
    before=$(ls "$tmp/$t" | sort)
    nice -n 10 "$bdir/tests/fuzz/$t" -merge=1 -malloc_limit_mb=2048 -rss_limit_mb=2560 \
        -timeout=10 "$tmp/$t" "$work" >"$tmp/$t.log" 2>&1 ||
        { echo "merge: $t: merge failed"; tail -n 5 "$tmp/$t.log"; continue; }
    added=$(comm -13 <(echo "$before") <(ls "$tmp/$t" | sort))
    n_added=$(echo "$added" | grep -c . || true)
    n=0
    [ "$n_added" -gt 0 ] || { echo "merge: $t: nothing new"; continue; }
    for f in $(cd "$tmp/$t" && ls -S -r $added 2>/dev/null); do
        sz=$(stat -c %s "$tmp/$t/$f")
        [ "$sz" -le "$max_bytes" ] || continue
        [ "$n" -lt "$max_new" ] || break
        cp "$tmp/$t/$f" "$seeds/fz_${f:0:12}"
        n=$((n + 1))
    done
    echo "merge: $t: $n_added units add coverage beyond the seeds; $n (<= $max_bytes bytes) copied"
done
