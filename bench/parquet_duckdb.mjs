#!/usr/bin/env node
// parquet_duckdb.mjs - the DuckDB peer of the Parquet export/import benchmark
// (bench_parquet): how fast DuckDB WRITES the same rows as Parquet and READS
// its own Parquet file back, on 1 and 2 threads, plus its file sizes.
//
// Setup (untimed): a fresh persistent database WORK/duck.db (so the table is
// stored compressed on disk, as ours is) gets table t = every row and column
// of --source (one of bench_parquet's exports, normally the single-file zstd
// --spark-compatible one: timestamps in microseconds, which is what DuckDB
// writes), in the file's row order; then CHECKPOINT.
//
// Timed, each after one untimed warm-up pass, median of --runs passes:
// - copy:  COPY (SELECT * FROM t) TO 'WORK/duck_<codec>.parquet'
//          (FORMAT parquet, COMPRESSION <codec>), for every --codecs codec;
//          the previous file is deleted before the clock starts.
// - agg:   one query over read_parquet(WORK/duck_zstd.parquet) that touches
//          every value of every column: count(*), sum() of each numeric
//          column, max() of each other one.
// - ctas:  CREATE TABLE r AS SELECT * FROM read_parquet(...) into the
//          persistent database (materialised, as our import materialises a
//          table); r is dropped and the database checkpointed, untimed.
// MB/s is of Parquet bytes written (copy) or read (agg, ctas).
//
// usage: node parquet_duckdb.mjs --source F --work DIR [--threads 1,2] [--runs 3]
//        [--codecs zstd,snappy] [--memory-limit 6GB]
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, rmSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = { threads: '1,2', runs: '3', codecs: 'zstd,snappy', 'memory-limit': '6GB' };
const usage = () => {
  console.error('usage: node parquet_duckdb.mjs --source F --work DIR [--threads 1,2] [--runs 3] ' +
                '[--codecs zstd,snappy] [--memory-limit 6GB]');
  process.exit(2);
};
for (let i = 0; i < args.length; i += 2) {
  const k = args[i].replace(/^--/, '');
  if (!(k in opt) && k !== 'source' && k !== 'work') usage();
  if (i + 1 >= args.length) usage();
  opt[k] = args[i + 1];
}
if (!opt.source || !opt.work) usage();
if (!existsSync(opt.source)) {
  console.error(`parquet_duckdb: no such file ${opt.source}`);
  process.exit(1);
}
const runs = Number(opt.runs);
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
const ident = (s) => `"${s.replace(/"/g, '""')}"`;

const dbPath = `${opt.work}/duck.db`;
rmSync(dbPath, { force: true });
rmSync(`${dbPath}.wal`, { force: true });
const inst = await DuckDBInstance.create(dbPath);
const con = await inst.connect();
const q = (s) => con.run(s);
await q(`SET memory_limit = ${lit(opt['memory-limit'])}`);
await q(`SET preserve_insertion_order = true`);

{
  const t0 = performance.now();
  await q(`CREATE TABLE t AS SELECT * FROM read_parquet(${lit(opt.source)})`);
  await q('CHECKPOINT');
  const n = Number((await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]);
  console.error(`parquet_duckdb: loaded ${n} rows from ${opt.source} into ${dbPath} in ` +
                `${((performance.now() - t0) / 1000).toFixed(1)} s (untimed)`);
}
const cols = (await con.runAndReadAll('DESCRIBE t')).getRows().map((r) => [String(r[0]), String(r[1])]);
const numeric = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;
const aggs = cols.map(([n, ty]) => (numeric.test(ty) ? `sum(${ident(n)})` : `max(${ident(n)})`));
console.error(`parquet_duckdb: ${cols.length} columns: ` + cols.map(([n, ty]) => `${n} ${ty}`).join(', '));

async function timed(setup, body) {
  const ts = [];
  for (let r = 0; r <= runs; r++) { // pass 0: warm-up
    if (setup) await setup();
    const t0 = performance.now();
    await body();
    if (r > 0) ts.push((performance.now() - t0) / 1000);
  }
  ts.sort((a, b) => a - b);
  return { med: ts[Math.floor(ts.length / 2)], min: ts[0], max: ts[ts.length - 1] };
}

const out = [];
function report(op, codec, th, rows, bytes, t) {
  const rps = rows / t.med;
  console.log(`duckdb ${op} codec=${codec} threads=${th}: median ${(rps / 1e6).toFixed(2)} M rows/s ` +
              `(min ${(rows / t.max / 1e6).toFixed(2)}, max ${(rows / t.min / 1e6).toFixed(2)}), ` +
              `${(bytes / t.med / 1e6).toFixed(1)} MB/s, ${rows} rows, ${bytes} bytes = ` +
              `${(bytes / rows).toFixed(3)} B/row`);
  out.push({ op, codec, threads: th, median_rows_per_s: Math.round(rps), median_s: t.med, rows, bytes,
             bytes_per_row: bytes / rows });
}

const rows = Number((await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]);
const codecs = opt.codecs.split(',');
const threads = opt.threads.split(',').map(Number);
const file = (c) => `${opt.work}/duck_${c}.parquet`;
for (const th of threads) {
  await q(`SET threads = ${th}`);
  for (const c of codecs) {
    const f = file(c);
    const t = await timed(() => rmSync(f, { force: true }),
      () => q(`COPY (SELECT * FROM t) TO ${lit(f)} (FORMAT parquet, COMPRESSION ${c})`));
    report('copy', c, th, rows, statSync(f).size, t);
  }
}
const rf = file(codecs.includes('zstd') ? 'zstd' : codecs[0]);
const rcodec = codecs.includes('zstd') ? 'zstd' : codecs[0];
const rbytes = statSync(rf).size;
const aggSql = `SELECT count(*), ${aggs.join(', ')} FROM read_parquet(${lit(rf)})`;
for (const th of threads) {
  await q(`SET threads = ${th}`);
  const t = await timed(null, async () => {
    const n = Number((await con.runAndReadAll(aggSql)).getRows()[0][0]);
    if (n !== rows) throw new Error(`agg read ${n} rows, expected ${rows}`);
  });
  report('agg', rcodec, th, rows, rbytes, t);
  const t2 = await timed(async () => { await q('DROP TABLE IF EXISTS r'); await q('CHECKPOINT'); },
    () => q(`CREATE TABLE r AS SELECT * FROM read_parquet(${lit(rf)})`));
  report('ctas', rcodec, th, rows, rbytes, t2);
  await q('DROP TABLE IF EXISTS r');
  await q('CHECKPOINT');
}
console.log(JSON.stringify({ duckdb: out, version: (await con.runAndReadAll('SELECT version()')).getRows()[0][0] }));
con.closeSync?.();
