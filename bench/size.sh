#!/usr/bin/env bash
# size.sh - storage-size benchmark: stored bytes per row per column of
# generated ticks in ticklake segment files, side by side with the same rows
# (same order) in zstd Parquet written by DuckDB (@duckdb/node-api).
#
#   bench/size.sh [--symbols A,B] [--days D] [--rows-per-day R] [--seed N]
#                 [--threads N] [--parquet-version V1|V2] [--out DIR] [--keep-csv]
#
# Defaults: BANKNIFTY,NIFTY x 1 day x 2,000,000 rows each, seed 1, DuckDB
# threads = nproc, DuckDB's default Parquet version, output in
# build-bench/size-run. Builds bench_size in $BUILD_DIR (default
# build-bench, Release) if needed and runs `npm ci` in bench/ if
# bench/node_modules is missing. The CSV handed to DuckDB is deleted at the
# end unless --keep-csv.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
SYMBOLS=BANKNIFTY,NIFTY
DAYS=1
ROWS=2000000
SEED=1
THREADS=$(nproc)
PQV=
OUT=
KEEP_CSV=0

die() { echo "size.sh: error: $*" >&2; exit 1; }
usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

CMDLINE="$0 $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --symbols) SYMBOLS=${2:?}; shift 2 ;;
    --days) DAYS=${2:?}; shift 2 ;;
    --rows-per-day) ROWS=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --parquet-version) PQV=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --keep-csv) KEEP_CSV=1; shift ;;
    -h|--help) usage ;;
    *) echo "size.sh: error: unknown argument '$1'" >&2; usage ;;
  esac
done
OUT=${OUT:-$BUILD/size-run}

command -v node >/dev/null || die "node not found (apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm not found (apt-get install npm)"

# ---- build -----------------------------------------------------------------
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTL_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" --target bench_size -j2 >/dev/null || {
  cmake --build "$BUILD" --target bench_size -j2; die "build of bench_size failed"; }
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$BUILD/CMakeCache.txt" ||
  echo "size.sh: warning: $BUILD is not a Release build" >&2
if [ ! -d "$ROOT/bench/node_modules/@duckdb/node-api" ]; then
  (cd "$ROOT/bench" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci in bench/ failed"
fi

# ---- where and on what ----------------------------------------------------------
echo "== storage size: ticklake segments vs DuckDB zstd Parquet"
echo "command: $CMDLINE"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, $(uname -sr)"
if git -C "$ROOT" rev-parse --short HEAD >/dev/null 2>&1; then
  echo "commit:  $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!bench/RESULTS.md' || echo ' (+ uncommitted changes in the tree)')"
else
  echo "commit:  unknown (not a git checkout)"
fi
echo "data:    symbols $SYMBOLS x $DAYS day(s) x $ROWS rows, seed $SEED, partition-sorted"
echo

rm -rf "$OUT"
mkdir -p "$OUT"

# ---- ticklake side ------------------------------------------------------------
echo "-- ticklake (bench_size)"
"$BUILD/bench/bench_size" --seed "$SEED" --days "$DAYS" --rows-per-day "$ROWS" \
  --symbols "$SYMBOLS" --dir "$OUT" --csv "$OUT/ticks.csv" --json "$OUT/ticklake.json"
echo

# ---- DuckDB side ----------------------------------------------------------------
echo "-- DuckDB (duckdb_size.mjs, $THREADS threads${PQV:+, parquet $PQV})"
node "$ROOT/bench/duckdb_size.mjs" --csv "$OUT/ticks.csv" --out "$OUT/ticks.parquet" \
  --threads "$THREADS" --schema "$OUT/ticklake.json" --json-out "$OUT/parquet.json" \
  ${PQV:+--parquet-version "$PQV"} >/dev/null
[ "$KEEP_CSV" = 1 ] || rm -f "$OUT/ticks.csv"

# ---- side by side -------------------------------------------------------------------
cd "$ROOT/bench"
node --input-type=module - "$OUT/ticklake.json" "$OUT/parquet.json" "$OUT/compare.json" <<'EOF'
import { readFileSync, writeFileSync } from 'node:fs';
const [tlPath, pqPath, outPath] = process.argv.slice(2);
const tl = JSON.parse(readFileSync(tlPath, 'utf8'));
const pq = JSON.parse(readFileSync(pqPath, 'utf8'));
if (tl.rows !== pq.rows)
  throw new Error(`row counts differ: ticklake ${tl.rows}, parquet ${pq.rows}`);
const rows = tl.rows;
const KERNEL = ['price', 'bp0', 'sp0', 'volume', 'expiry', 'opt_type', 'strike', 'timestamp'];
const names = tl.schema.map(c => c.name);
for (const n of names)
  if (!(n in pq.columns)) throw new Error(`column ${n} missing from the Parquet file`);
const pr = (s, w) => String(s).padStart(w);
const pl = (s, w) => String(s).padEnd(w);
const bpr = b => (b / rows).toFixed(3);
const ratio = (a, b) => (b === 0 ? (a === 0 ? '1.00' : 'inf') : (a / b).toFixed(2));
const lines = [];
const line = (name, type, a, b, note = '') =>
  lines.push(`${pl(name, 12)} ${pl(type, 9)} ${pr(bpr(a), 10)} ${pr(bpr(b), 10)} ${pr(ratio(a, b), 7)}  ${note}`);
lines.push(`${pl('column', 12)} ${pl('type', 9)} ${pr('ticklake', 10)} ${pr('pq-zstd', 10)} ${pr('tl/pq', 7)}  (bytes/row; ticklake encodings | parquet encodings)`);
const rowsOut = [];
let tlSum = 0, pqSum = 0, tlK = 0, pqK = 0;
for (const c of tl.schema) {
  const a = tl.columns[c.name], b = pq.columns[c.name];
  tlSum += a; pqSum += b;
  if (KERNEL.includes(c.name)) { tlK += a; pqK += b; }
  const mark = a > b ? ' <- larger' : '';
  line(c.name + (KERNEL.includes(c.name) ? '*' : ''), c.type, a, b,
       `${tl.encodings[c.name]} | ${pq.encodings[c.name]}${mark}`);
  rowsOut.push({ name: c.name, type: c.type, kernel: KERNEL.includes(c.name),
                 ticklake_bytes: a, parquet_bytes: b });
}
lines.push('-'.repeat(60));
line('kernel*', '', tlK, pqK, KERNEL.join(','));
line('all columns', '', tlSum, pqSum);
const pqBloom = Object.values(pq.bloom_filter_bytes ?? {}).reduce((x, y) => x + y, 0);
line('bloom', '', 0, pqBloom, 'Parquet Bloom filters (DuckDB writes them for dictionary-encoded chunks)');
line('other', '', tl.file_bytes - tlSum, pq.file_bytes - pqSum - pqBloom,
     'rest of the file outside column data (headers, footers/metadata, zone maps)');
line('files', '', tl.file_bytes, pq.file_bytes,
     `${tl.n_files} segment file(s) | 1 Parquet file, ${pq.row_groups} row groups`);
console.log(`\n-- side by side: ${rows} rows; * = kernel column; ratio < 1 means ticklake is smaller`);
console.log(`   parquet: DuckDB ${pq.duckdb_version}, ${pq.compression}, parquet version ${pq.parquet_version}, ` +
            `default row group size, preserve_insertion_order=${pq.preserve_insertion_order}, ${pq.threads} threads`);
console.log(`   ticklake: ${tl.ticklake_version}, format ${tl.format_version}, block_rows ${tl.block_rows || 'default'}, ` +
            `zstd level ${tl.zstd_level || 'default'}, hot: ${tl.hot_columns.join(',')}`);
console.log(lines.join('\n'));
writeFileSync(outPath, JSON.stringify({
  rows, ticklake: { file_bytes: tl.file_bytes, n_files: tl.n_files },
  parquet: { file_bytes: pq.file_bytes, bloom_filter_bytes: pqBloom, row_groups: pq.row_groups,
             duckdb: pq.duckdb_version,
             parquet_version: pq.parquet_version },
  kernel: { ticklake_bytes: tlK, parquet_bytes: pqK },
  all: { ticklake_bytes: tlSum, parquet_bytes: pqSum }, columns: rowsOut }) + '\n');
console.log(`\njson: ${outPath}`);
EOF
