#!/usr/bin/env bash
# tools/coverage.sh - line and branch coverage of the test suite, per source
# file, with gcc --coverage and gcov (no gcovr/lcov needed).
#
#   tools/coverage.sh [BUILD_DIR]        (default: build-cov/ in the repo)
#
# Configures BUILD_DIR with -DTL_COVERAGE=ON (Debug, -O0, --coverage,
# -fprofile-update=atomic: the scan and commit code is multi-threaded),
# builds it, removes old counters, runs ctest (every test the tree defines:
# Criterion unit tests, CLI scripts, fuzz corpus replays; interop tests
# skip themselves without node), then runs gcov over every object of the
# engine, format and tools libraries and prints, per source file:
#   lines %  (executed lines / executable lines)
#   branches %  (branches taken at least once / branches; gcov -b)
# followed by totals for the areas issue 7 names (commit, recovery,
# decoders) and the functions with the most unexecuted lines in them.
#
# Needs: gcc and its gcov (same version), cmake, make, the project's build
# dependencies (tools/deps.sh installs them), awk. Environment:
#   JOBS=N          make/ctest parallelism (default 2)
#   CTEST_ARGS=...  extra ctest arguments, e.g. "-R engine/"
#   TL_COV_SKIP_BUILD=1  reuse the counters already in BUILD_DIR (report only)
# Output: the report on stdout and in BUILD_DIR/coverage/summary.txt; the
# annotated sources (*.gcov, "#####" = never executed) in BUILD_DIR/coverage/.
# The exit status is ctest's (coverage is reported even when a test fails).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-cov}
jobs=${JOBS:-2}
command -v gcov >/dev/null || { echo "coverage.sh: gcov not found (it comes with gcc)" >&2; exit 2; }

ctest_rc=0
if [ "${TL_COV_SKIP_BUILD:-0}" != 1 ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTL_COVERAGE=ON \
        -DTL_BUILD_BENCH=OFF >/dev/null || exit 2
    make -C "$build" -j"$jobs" >/dev/null || { echo "coverage.sh: build failed" >&2; exit 2; }
    find "$build" -name '*.gcda' -delete
    # shellcheck disable=SC2086
    (cd "$build" && ctest -j"$jobs" --output-on-failure ${CTEST_ARGS:-}) \
        >"$build/ctest.log" 2>&1 || ctest_rc=$?
    grep -E '^[0-9]+% tests passed' "$build/ctest.log" || true
fi

out=$build/coverage
rm -rf "$out"
mkdir -p "$out"
raw=$out/gcov.txt
: >"$raw"
# gcov writes its .gcov files into the current directory: run it in $out.
for objdir in "$build"/format/CMakeFiles/tl_format.dir/src \
              "$build"/engine/CMakeFiles/tl_engine.dir/src \
              "$build"/tools/CMakeFiles/ticklake.dir; do
    [ -d "$objdir" ] || continue
    for gcno in "$objdir"/*.gcno; do
        [ -e "$gcno" ] || continue
        (cd "$out" && gcov -b -c -f -p -o "$objdir" "${gcno%.gcno}.gcda" 2>/dev/null) >>"$raw" || true
    done
done

# Per file: gcov prints "File 'X'" then "Lines executed:P% of N",
# "Branches executed:...", "Taken at least once:P% of N" (function blocks,
# headers and system files are skipped: only this repository's .c files).
awk -v root="$root/" '
    /^File / { f = substr($0, 7, length($0) - 7); keep = (index(f, root) == 1 && f ~ /\.c$/); next }
    /^Function / { keep = 0; next }
    keep && /^Lines executed:/ { split($0, a, /[:% ]+/); lp[f] = a[3]; ln[f] = $NF; next }
    keep && /^Taken at least once:/ { split($0, a, /[:% ]+/); bp[f] = a[5]; bn[f] = $NF; next }
    keep && /^No branches/ { bp[f] = 100; bn[f] = 0; next }
    END {
        for (f in lp) {
            rel = substr(f, length(root) + 1)
            printf "%-36s %7.2f %6d %7.2f %6d\n", rel, lp[f], ln[f], (f in bp ? bp[f] : 100), (f in bn ? bn[f] : 0)
        }
    }' "$raw" | sort >"$out/files.txt"

{
    if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
        rev=$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo '+dirty')
    else
        rev="$root (not a git checkout)"
    fi
    echo "coverage of $rev, $(date -u +%Y-%m-%dT%H:%MZ), gcc $(gcc -dumpversion), ctest exit $ctest_rc"
    printf "%-36s %7s %6s %7s %6s\n" file "lines%" lines "branch%" brs
    cat "$out/files.txt"
    echo
    echo "areas (lines / branches taken, summed over the area's files; dec-avx512 = decoders"
    echo "without format/src/enc_avx512.c):"
    area() { # name, an extended regex over the relative paths, a file to leave out
        awk -v name="$1" -v re="$2" -v skip="${3:-}" '
            $1 ~ re && $1 != skip { l += $3; lc += $2 * $3 / 100; b += $5; bc += $4 * $5 / 100; files = files " " $1 }
            END { if (l) printf "  %-10s lines %6.2f%% of %6d, branches %6.2f%% of %6d  (%s )\n", name, 100 * lc / l, l, (b ? 100 * bc / b : 100), b, files }
        ' "$out/files.txt"
    }
    area commit   '^engine/src/(log|table)\.c$'
    area recovery '^engine/src/(snapshot|checkpoint)\.c$'
    dec='^(format/src/(enc_[a-z0-9]+|pq_(reader|page|meta|thrift|codec)|segment_reader)\.c|engine/src/(log_action|delta_read|csv_read)\.c)$'
    area decoders "$dec"
    # enc_avx512.c: gcov counts the branches of every always-inline AVX-512
    # intrinsic expanded at -O0 (~11,000, most "never executed" whatever the
    # tests do; its lines are ~99% covered), which swamps the area's figure
    area dec-avx512 "$dec" format/src/enc_avx512.c
    area all      '.'
    echo
    echo "functions with the most never-executed lines (file:function unexecuted/total):"
    # annotated files: lines "    #####:  123:" inside "function NAME called" blocks
    for g in "$out"/*.gcov; do
        [ -e "$g" ] || continue
        src=$(sed -n '1s/^ *-: *0:Source://p' "$g")
        case "$src" in "$root"/*.c) ;; *) continue ;; esac
        awk -v src="${src#"$root"/}" '
            /^function / { fn = $2; next }
            /^ *#####:/ { if (fn != "") miss[fn]++; if (fn != "") tot[fn]++; next }
            /^ *[0-9*]+:/ { if (fn != "") tot[fn]++; next }
            END { for (k in miss) printf "%6d %s:%s %d/%d\n", miss[k], src, k, miss[k], tot[k] }
        ' "$g"
    done | sort -rn | head -n "${TOP:-40}" | sed 's/^ *[0-9]* /  /'
} | tee "$out/summary.txt"
exit "$ctest_rc"
