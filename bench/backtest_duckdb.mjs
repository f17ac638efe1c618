#!/usr/bin/env node
// backtest_duckdb.mjs - the DuckDB peer of the backtest benchmark: how fast
// DuckDB merely READS the kernel's columns of the same rows from zstd Parquet
// (no strategy at all), on 1 and 2 threads.
//
// The Parquet file is made once from a CSV of the rows in the backtest's order
// (`ticklake scan TABLE --ordered --columns timestamp,strike,price,bp0,sp0,volume`,
// timestamps as integer ns), with explicit column types (no sniffing), zstd,
// insertion order preserved, DuckDB's default row groups; later runs reuse it.
// The timed query aggregates every value of the 6 columns so none can be
// skipped: count(*), sum of price, bp0, sp0, volume, min(strike), max(timestamp).
// One untimed warm-up, then --runs timed passes; prints the median rows/s.
//
// usage: node backtest_duckdb.mjs --csv F --parquet P [--threads 1,2] [--runs 5]
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = { threads: '1,2', runs: '5' };
for (let i = 0; i < args.length; i += 2) {
  const k = args[i].replace(/^--/, '');
  if (!['csv', 'parquet', 'threads', 'runs'].includes(k) || i + 1 >= args.length) {
    console.error('usage: node backtest_duckdb.mjs --csv F --parquet P [--threads 1,2] [--runs 5]');
    process.exit(2);
  }
  opt[k] = args[i + 1];
}
if (!opt.parquet) {
  console.error('backtest_duckdb: --parquet is required');
  process.exit(2);
}

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const q = (s) => con.run(s);
const lit = (s) => `'${s.replace(/'/g, "''")}'`;

if (!existsSync(opt.parquet)) {
  if (!opt.csv || !existsSync(opt.csv)) {
    console.error('backtest_duckdb: no Parquet file and no --csv to make it from');
    process.exit(1);
  }
  const t0 = performance.now();
  await q(`SET preserve_insertion_order = true`);
  await q(`COPY (SELECT make_timestamp_ns("timestamp") AS "timestamp", strike, price, bp0, sp0, volume
                 FROM read_csv(${lit(opt.csv)}, header = true, auto_detect = false,
                   columns = {'timestamp': 'BIGINT', 'strike': 'FLOAT', 'price': 'DOUBLE',
                              'bp0': 'DOUBLE', 'sp0': 'DOUBLE', 'volume': 'BIGINT'}))
           TO ${lit(opt.parquet)} (FORMAT parquet, COMPRESSION zstd)`);
  console.error(`backtest_duckdb: made ${opt.parquet} (${(statSync(opt.parquet).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const sql = `SELECT count(*) AS n, sum(price), sum(bp0), sum(sp0), sum(volume), min(strike),
                    max("timestamp") FROM read_parquet(${lit(opt.parquet)})`;
const out = [];
for (const th of opt.threads.split(',').map(Number)) {
  await q(`SET threads = ${th}`);
  const warm = await con.runAndReadAll(sql);
  const rows = Number(warm.getRows()[0][0]);
  const ts = [];
  for (let r = 0; r < Number(opt.runs); r++) {
    const t0 = performance.now();
    await con.runAndReadAll(sql);
    ts.push((performance.now() - t0) / 1000);
  }
  ts.sort((a, b) => a - b);
  const med = ts[Math.floor(ts.length / 2)];
  console.log(`duckdb threads=${th}: median ${(rows / med / 1e6).toFixed(1)} M rows/s ` +
              `(min ${(rows / ts[ts.length - 1] / 1e6).toFixed(1)}, max ${(rows / ts[0] / 1e6).toFixed(1)}), ` +
              `${rows} rows, 6 columns read`);
  out.push({ threads: th, median_rows_per_s: rows / med, rows });
}
console.log(JSON.stringify({ duckdb: out }));
