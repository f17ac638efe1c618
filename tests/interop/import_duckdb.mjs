#!/usr/bin/env node
// import_duckdb.mjs - the DuckDB side of tests/interop/import_test.sh: DuckDB
// writes Parquet files that `ticklake import --create` must read back equal.
//
//   node import_duckdb.mjs gen DIR
//     Builds one table of every type ticklake imports (with nulls in every
//     column and the extremes of each type: min/max integers, NaN, +-inf,
//     -0.0, empty strings, strings with commas, quotes and newlines) and
//     writes it with DuckDB's COPY ... (FORMAT parquet) in every codec DuckDB
//     has (uncompressed, snappy, gzip, zstd, brotli, lz4_raw) for both
//     PARQUET_VERSION V1 and V2, small row groups (several per file), as
//     DIR/<codec>_<version>.parquet; plus DIR/hive/, the same rows written
//     with PARTITION_BY (symbol) (Hive directories, symbol not in the files).
//     Prints the file names, one a line.
//
//   node import_duckdb.mjs check DIR NAME ACTUAL.csv
//     Compares the CSV `ticklake scan --format csv` printed for the imported
//     table with DuckDB's own rows (regenerated; deterministic): both sides
//     as typed rows in DuckDB, EXCEPT ALL both ways plus row counts. Types
//     on our side: timestamps are integer nanoseconds (compared with
//     epoch_ns of DuckDB's value), DECIMAL(9,2) is float64 (compared with
//     CAST(d AS DOUBLE), exact for precision <= 15), DECIMAL(18,4) is the
//     exact decimal text (cast back to DECIMAL(18,4)). NaN equals NaN in
//     DuckDB's set operations; -0.0 is checked apart (its sign in the text).
//     Exit status 0 = equal, 1 = different (details on stderr).

import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROWS = 3000;

// name, DuckDB type, SQL expression over i (0..ROWS-1), type of our CSV
// column, and the DuckDB expression over the source column to compare with.
const COLS = [
  ['c_bool', 'BOOLEAN', 'i % 3 = 0', 'BOOLEAN'],
  ['c_i8', 'TINYINT', "CASE i % 10 WHEN 1 THEN -128 WHEN 2 THEN 127 ELSE (i % 100) - 50 END", 'TINYINT'],
  ['c_i16', 'SMALLINT', "CASE i % 10 WHEN 1 THEN -32768 WHEN 2 THEN 32767 ELSE i - 1500 END", 'SMALLINT'],
  ['c_i32', 'INTEGER', "CASE i % 10 WHEN 1 THEN -2147483648 WHEN 2 THEN 2147483647 ELSE i * 1000 END", 'INTEGER'],
  ['c_i64', 'BIGINT', "CASE i % 10 WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 ELSE i * 1000000007 END", 'BIGINT'],
  ['c_u8', 'UTINYINT', "CASE i % 10 WHEN 2 THEN 255 ELSE i % 200 END", 'UTINYINT'],
  ['c_u16', 'USMALLINT', "CASE i % 10 WHEN 2 THEN 65535 ELSE i END", 'USMALLINT'],
  ['c_u32', 'UINTEGER', "CASE i % 10 WHEN 2 THEN 4294967295 ELSE i * 7 END", 'UINTEGER'],
  ['c_u64', 'UBIGINT', "CASE i % 10 WHEN 2 THEN 18446744073709551615 WHEN 3 THEN 9223372036854775808 ELSE i END", 'UBIGINT'],
  ['c_f32', 'FLOAT', "CASE i % 10 WHEN 1 THEN 'nan'::FLOAT WHEN 2 THEN 'inf'::FLOAT WHEN 3 THEN '-inf'::FLOAT WHEN 4 THEN '-0.0'::FLOAT WHEN 5 THEN 3.4028235e38::FLOAT WHEN 6 THEN 1e-45::FLOAT ELSE (i / 7.0)::FLOAT END", 'FLOAT'],
  ['c_f64', 'DOUBLE', "CASE i % 10 WHEN 1 THEN 'nan'::DOUBLE WHEN 2 THEN 'inf'::DOUBLE WHEN 3 THEN '-inf'::DOUBLE WHEN 4 THEN '-0.0'::DOUBLE WHEN 5 THEN 1.7976931348623157e308 WHEN 6 THEN 5e-324 ELSE i / 7.0 END", 'DOUBLE'],
  ['c_ts_us', 'TIMESTAMP', "TIMESTAMP '2024-03-01 09:15:00' + to_microseconds(i * 1000003)", 'BIGINT', 'epoch_ns(c_ts_us)'],
  ['c_ts_ms', 'TIMESTAMP_MS', "(TIMESTAMP '1969-12-31 23:59:00' + to_milliseconds(i * 37))::TIMESTAMP_MS", 'BIGINT', 'epoch_ns(c_ts_ms)'],
  ['c_ts_ns', 'TIMESTAMP_NS', "CASE i % 10 WHEN 1 THEN '1677-09-22 00:00:00'::TIMESTAMP_NS WHEN 2 THEN '2262-04-11 00:00:00'::TIMESTAMP_NS ELSE ('2025-01-01'::TIMESTAMP_NS + to_microseconds(i)) END", 'BIGINT', 'epoch_ns(c_ts_ns)'],
  ['c_tstz', 'TIMESTAMPTZ', "TIMESTAMPTZ '2024-06-30 23:59:59.999999+00' + to_seconds(i)", 'BIGINT', 'epoch_ns(c_tstz)'],
  ['c_date', 'DATE', "CASE i % 10 WHEN 1 THEN DATE '0001-01-01' WHEN 2 THEN DATE '9999-12-31' ELSE DATE '1970-01-01' + (i - 1000)::INTEGER END", 'DATE'],
  ['c_str', 'VARCHAR', "CASE i % 10 WHEN 1 THEN '' WHEN 2 THEN 'a,b\"c' WHEN 3 THEN 'line' || chr(10) || 'two' WHEN 4 THEN 'caf\u00e9 \u20ac' ELSE 'v' || (i % 37)::VARCHAR END", 'VARCHAR'],
  ['c_dec9', 'DECIMAL(9,2)', "CASE i % 10 WHEN 1 THEN -9999999.99 WHEN 2 THEN 9999999.99 ELSE (i * 1.37)::DECIMAL(9,2) END", 'DOUBLE', 'CAST(c_dec9 AS DOUBLE)'],
  ['c_dec18', 'DECIMAL(18,4)', "CASE i % 10 WHEN 1 THEN -99999999999999.9999 WHEN 2 THEN 99999999999999.9999 ELSE (i * 12345.6789)::DECIMAL(18,4) END", 'VARCHAR', 'c_dec18', 'CAST(c_dec18 AS DECIMAL(18,4))'],
  ['symbol', 'VARCHAR', "CASE i % 3 WHEN 0 THEN 'NIFTY' WHEN 1 THEN 'BANKNIFTY' ELSE 'A/B c' END", 'VARCHAR'],
  ['timestamp', 'TIMESTAMP_NS', "('2024-01-01'::TIMESTAMP_NS + to_seconds((i * 617) % 400000))", 'BIGINT', 'epoch_ns("timestamp")'],
];
const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4_raw'];
const VERSIONS = ['V1', 'V2'];

function q(name) { return `"${name}"`; }

async function source(con) {
  // nulls: every column, in a pattern that differs per column
  const sel = COLS.map(([n, t, e], k) => {
    if (n === 'symbol' || n === 'timestamp') return `(${e})::${t} AS ${q(n)}`;
    return `CASE WHEN (i + ${k}) % 11 = 0 THEN NULL ELSE (${e})::${t} END AS ${q(n)}`;
  });
  await con.run(`CREATE OR REPLACE TABLE src AS SELECT ${sel.join(', ')} FROM range(${ROWS}) r(i)`);
}

async function gen(dir) {
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run("SET TimeZone = 'UTC'");
  await source(con);
  const names = [];
  for (const codec of CODECS) {
    for (const v of VERSIONS) {
      const name = `${codec}_${v}`;
      const path = join(dir, `${name}.parquet`);
      await con.run(`COPY src TO '${path}' (FORMAT parquet, COMPRESSION ${codec}, ` +
                    `PARQUET_VERSION ${v}, ROW_GROUP_SIZE 1024)`);
      names.push(name);
    }
  }
  await con.run(`COPY src TO '${join(dir, 'hive')}' (FORMAT parquet, COMPRESSION zstd, ` +
                `PARTITION_BY (symbol), ROW_GROUP_SIZE 1024)`);
  names.push('hive');
  process.stdout.write(names.join('\n') + '\n');
}

async function check(dir, name, actual) {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run("SET TimeZone = 'UTC'");
  await source(con);
  // our CSV: typed explicitly, "" = empty string, empty field = null
  const header = readFileSync(actual, 'utf8').split('\n', 1)[0].split(',');
  const byName = new Map(COLS.map((c) => [c[0], c]));
  for (const h of header) {
    if (!byName.has(h)) { process.stderr.write(`${name}: unexpected column '${h}' in ${actual}\n`); return 1; }
  }
  if (header.length !== COLS.length) {
    process.stderr.write(`${name}: ${header.length} columns in ${actual}, ${COLS.length} expected\n`);
    return 1;
  }
  const colspec = header.map((h) => `'${h}': '${byName.get(h)[3]}'`).join(', ');
  await con.run(`CREATE TABLE got AS SELECT * FROM read_csv('${actual}', header = true, ` +
                `auto_detect = false, columns = {${colspec}}, nullstr = '', ` +
                `allow_quoted_nulls = false, quote = '"', escape = '"', delim = ',')`);
  const want = COLS.map(([n, , , , ex]) => `${ex ?? q(n)} AS ${q(n)}`).join(', ');
  const have = COLS.map(([n, , , , , gx]) => `${gx ?? q(n)} AS ${q(n)}`).join(', ');
  await con.run(`CREATE TABLE w AS SELECT ${want} FROM src`);
  await con.run(`CREATE TABLE g AS SELECT ${have} FROM got`);
  const counts = (await con.runAndReadAll(
    `SELECT (SELECT count(*) FROM w) nw, (SELECT count(*) FROM g) ng,
            (SELECT count(*) FROM (SELECT * FROM w EXCEPT ALL SELECT * FROM g)) only_w,
            (SELECT count(*) FROM (SELECT * FROM g EXCEPT ALL SELECT * FROM w)) only_g,
            (SELECT count(*) FROM src WHERE signbit(c_f64) AND c_f64 = 0) negz_w,
            (SELECT count(*) FROM got WHERE signbit(c_f64) AND c_f64 = 0) negz_g,
            (SELECT count(*) FROM src WHERE signbit(c_f32) AND c_f32 = 0) negz32_w,
            (SELECT count(*) FROM got WHERE signbit(c_f32) AND c_f32 = 0) negz32_g`)).getRowObjects()[0];
  const n = (x) => Number(x);
  if (n(counts.nw) !== n(counts.ng) || n(counts.only_w) || n(counts.only_g) ||
      n(counts.negz_w) !== n(counts.negz_g) || n(counts.negz32_w) !== n(counts.negz32_g)) {
    process.stderr.write(`${name}: differs: ${JSON.stringify(counts, (k, v) => typeof v === 'bigint' ? v.toString() : v)}\n`);
    const ex = (await con.runAndReadAll(
      'SELECT * FROM (SELECT * FROM w EXCEPT ALL SELECT * FROM g) LIMIT 3')).getRowObjects();
    const eg = (await con.runAndReadAll(
      'SELECT * FROM (SELECT * FROM g EXCEPT ALL SELECT * FROM w) LIMIT 3')).getRowObjects();
    const js = (o) => JSON.stringify(o, (k, v) => typeof v === 'bigint' ? v.toString() : v);
    process.stderr.write(`  only DuckDB: ${js(ex)}\n  only ticklake: ${js(eg)}\n`);
    return 1;
  }
  process.stdout.write(`${name}: ${n(counts.nw)} rows equal\n`);
  return 0;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'gen' && args.length === 1) {
  await gen(args[0]);
} else if (mode === 'check' && args.length === 3) {
  process.exitCode = await check(args[0], args[1], args[2]);
} else {
  process.stderr.write('usage: import_duckdb.mjs gen DIR | check DIR NAME ACTUAL.csv\n');
  process.exitCode = 2;
}
