#!/usr/bin/env node
// duckdb_size.mjs - the peer side of the storage-size benchmark.
//
// Reads a CSV of generated ticks (as written by tl_batch_write_csv / `ticklake
// gen`), writes it with DuckDB to a zstd Parquet file, and prints, as one JSON
// object on stdout, the stored bytes per column taken from the file's own
// footer (parquet_metadata: total_compressed_size summed over row groups):
//
//   {"rows": N, "file_bytes": B, "columns": {"name": bytes, ...}, ...extras}
//
// Column types never come from CSV sniffing: they come from an explicit
// column list given to read_csv (auto_detect = false). The list is built from
// --schema FILE (JSON with a "schema" or "columns" array of
// {"name":..,"type":<tl type name>}, as bench_size writes it) so both sides store the same physical types, or, when
// no schema is given, from the CSV header and the tick schema's naming
// conventions (see typeByName). The timestamp column holds integer
// nanoseconds; it is read as BIGINT and stored as TIMESTAMP_NS
// (make_timestamp_ns). Dates are YYYY-MM-DD.
//
// total_compressed_size covers a column chunk's pages (dictionary and data
// pages with their headers); the Bloom filters DuckDB writes by default for
// dictionary-encoded chunks live outside the chunks and are reported apart,
// per column, as "bloom_filter_bytes" (an optional index, like a zone map).
//
// Row order: DuckDB's preserve_insertion_order is true by default; it is set
// explicitly here anyway, so the Parquet file keeps the CSV's row order (the
// order matters: it decides how well runs and deltas compress).
// Everything else is DuckDB's default Parquet writer setup: default row group
// size, default zstd level, default Parquet format version (V1: PLAIN and
// dictionary encodings only). --parquet-version V2 lets DuckDB use the V2
// encodings (DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, ...) for a stronger peer.
//
// Usage:
//   node duckdb_size.mjs --csv ticks.csv --out ticks.parquet
//        [--threads N] [--schema schema.json] [--json-out result.json]
//        [--parquet-version V1|V2] [--ingest]
//
// --ingest: the peer of `ticklake append` (bench/append_peer.sh): --out is a
// directory, written as hive-partitioned Parquet (symbol=…/date=…, the UTC
// day of the timestamp column) with each partition's rows ordered by the
// ticks table's sort key (expiry, opt_type, strike, timestamp); file_bytes is
// the sum over the files.

import { DuckDBInstance } from '@duckdb/node-api';
import {
  readFileSync, writeFileSync, statSync, rmSync, existsSync, openSync, readSync, closeSync,
  readdirSync,
} from 'node:fs';
import { join } from 'node:path';

// Bytes of every file below dir (or of the file itself).
function treeBytes(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(p)) n += treeBytes(join(p, e));
  return n;
}

function usage(msg) {
  if (msg) process.stderr.write(`duckdb_size: error: ${msg}\n`);
  process.stderr.write(
    'usage: node duckdb_size.mjs --csv FILE.csv --out FILE.parquet ' +
    '[--threads N] [--schema FILE.json] [--json-out FILE.json] ' +
    '[--parquet-version V1|V2] [--ingest]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { threads: 2 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const need = () => {
      if (i + 1 >= argv.length) usage(`${k} needs a value`);
      return argv[++i];
    };
    if (k === '--csv') a.csv = need();
    else if (k === '--out') a.out = need();
    else if (k === '--threads') a.threads = Number(need());
    else if (k === '--schema') a.schema = need();
    else if (k === '--json-out') a.jsonOut = need();
    else if (k === '--parquet-version') a.pqVersion = need();
    else if (k === '--ingest') a.ingest = true;
    else if (k === '--help' || k === '-h') usage();
    else usage(`unknown argument '${k}'`);
  }
  if (!a.csv || !a.out) usage('--csv and --out are required');
  if (a.pqVersion !== undefined && !/^V[12]$/.test(a.pqVersion))
    usage(`--parquet-version: expected V1 or V2, found '${a.pqVersion}'`);
  if (!Number.isInteger(a.threads) || a.threads < 1 || a.threads > 256)
    usage(`--threads: expected an integer 1..256, found '${a.threads}'`);
  return a;
}

// ticklake type name (tl_type_name) -> DuckDB type of the CSV column.
// Timestamps are read as BIGINT (integer ns) and converted afterwards.
const TL_TO_DUCKDB = {
  bool: 'BOOLEAN',
  int8: 'TINYINT', int16: 'SMALLINT', int32: 'INTEGER', int64: 'BIGINT',
  uint8: 'UTINYINT', uint16: 'USMALLINT', uint32: 'UINTEGER', uint64: 'UBIGINT',
  float32: 'FLOAT', float64: 'DOUBLE',
  timestamp: 'BIGINT', date: 'DATE', string: 'VARCHAR',
};

// Fallback when no schema file is given: the tick schema's conventions.
function typeByName(name) {
  if (name === 'timestamp') return 'timestamp';
  if (name === 'symbol' || name === 'opt_type') return 'string';
  if (name === 'expiry') return 'date';
  if (name === 'strike') return 'float32';
  if (/^(volume|oi)$/.test(name)) return 'int64';
  if (/^(qty|[bs]q\d+)$/.test(name)) return 'int32';
  if (/^(price|avg_price|open|high|low|close|changeper|[bs]p\d+)$/.test(name))
    return 'float64';
  return null;
}

function readHeader(path) {
  // The header is the first line; read only a prefix of the file.
  const buf = Buffer.alloc(65536);
  const fd = openSync(path, 'r');
  let n;
  try { n = readSync(fd, buf, 0, buf.length, 0); } finally { closeSync(fd); }
  const text = buf.subarray(0, n).toString('utf8');
  const nl = text.indexOf('\n');
  if (nl < 0)
    throw new Error(`${path}: byte 0: expected a header line ending in '\\n' ` +
                    `within the first ${n} bytes, found none`);
  return text.slice(0, nl).replace(/\r$/, '').split(',');
}

function sqlString(s) { return `'${String(s).replace(/'/g, "''")}'`; }
function sqlIdent(s) { return `"${String(s).replace(/"/g, '""')}"`; }

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const header = readHeader(a.csv);

  let types = {};
  if (a.schema) {
    const js = JSON.parse(readFileSync(a.schema, 'utf8'));
    const cols = Array.isArray(js.schema) ? js.schema : js.columns;
    if (!Array.isArray(cols))
      throw new Error(`${a.schema}: expected a "schema" (or "columns") array of ` +
                      `{"name","type"}, found none`);
    for (const c of cols) types[c.name] = c.type;
  }
  const colSpec = [];
  for (const name of header) {
    const tl = types[name] ?? typeByName(name);
    if (!tl || !TL_TO_DUCKDB[tl])
      throw new Error(`${a.csv}: header column '${name}': expected a known type ` +
                      `(from --schema or the tick naming rules), found ${tl ?? 'none'}`);
    colSpec.push({ name, tl, duck: TL_TO_DUCKDB[tl] });
  }

  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(a.threads),
  });
  const con = await instance.connect();
  await con.run('SET preserve_insertion_order = true');

  const columnsStruct = '{' + colSpec.map(c => `${sqlString(c.name)}: ${sqlString(c.duck)}`).join(', ') + '}';
  const selectList = colSpec.map(c => c.tl === 'timestamp'
    ? `make_timestamp_ns(${sqlIdent(c.name)}) AS ${sqlIdent(c.name)}`
    : sqlIdent(c.name)).join(', ');
  const readCsv = `read_csv(${sqlString(a.csv)}, header = true, auto_detect = false, ` +
                  `delim = ',', quote = '"', escape = '"', dateformat = '%Y-%m-%d', ` +
                  `columns = ${columnsStruct})`;
  if (existsSync(a.out)) rmSync(a.out, { recursive: true });
  const t0 = process.hrtime.bigint();
  const query = a.ingest
    ? `SELECT ${selectList}, CAST(make_timestamp_ns("timestamp") AS DATE) AS "date" ` +
      `FROM ${readCsv} ORDER BY "symbol", "date", "expiry", "opt_type", "strike", "timestamp"`
    : `SELECT ${selectList} FROM ${readCsv}`;
  await con.run(`COPY (${query}) TO ${sqlString(a.out)} ` +
                `(FORMAT parquet, COMPRESSION zstd` +
                (a.pqVersion ? `, PARQUET_VERSION ${a.pqVersion}` : '') +
                (a.ingest ? ', PARTITION_BY ("symbol", "date")' : '') + ')');
  const writeS = Number(process.hrtime.bigint() - t0) / 1e9;
  const metaPath = a.ingest ? join(a.out, '**', '*.parquet') : a.out;

  const meta = await con.runAndReadAll(
    `SELECT path_in_schema AS col, count(*) AS row_groups,
            sum(total_compressed_size) AS stored, sum(total_uncompressed_size) AS raw,
            coalesce(sum(bloom_filter_length), 0) AS bloom,
            string_agg(DISTINCT encodings, ' | ') AS encodings,
            min(column_id) AS column_id
       FROM parquet_metadata(${sqlString(metaPath)})
      GROUP BY path_in_schema ORDER BY column_id`);
  const nrows = await con.runAndReadAll(
    `SELECT sum(num_rows) AS n FROM (SELECT DISTINCT file_name, row_group_id, row_group_num_rows AS num_rows
       FROM parquet_metadata(${sqlString(metaPath)}))`);
  const ver = await con.runAndReadAll('SELECT version() AS v');

  const out = {
    rows: Number(nrows.getRowObjects()[0].n),
    file_bytes: treeBytes(a.out),
    columns: {},
    columns_uncompressed: {},
    bloom_filter_bytes: {},
    encodings: {},
    row_groups: 0,
    duckdb_version: String(ver.getRowObjects()[0].v),
    threads: a.threads,
    preserve_insertion_order: true,
    compression: 'zstd (DuckDB default level)',
    parquet_version: a.pqVersion ?? 'DuckDB default',
    write_seconds: Number(writeS.toFixed(3)),
    types: Object.fromEntries(colSpec.map(c => [c.name, c.tl === 'timestamp' ? 'TIMESTAMP_NS' : c.duck])),
  };
  for (const r of meta.getRowObjects()) {
    out.columns[r.col] = Number(r.stored);
    out.columns_uncompressed[r.col] = Number(r.raw);
    out.bloom_filter_bytes[r.col] = Number(r.bloom);
    out.encodings[r.col] = String(r.encodings);
    out.row_groups = Math.max(out.row_groups, Number(r.row_groups));
  }
  const text = JSON.stringify(out);
  if (a.jsonOut) writeFileSync(a.jsonOut, text + '\n');
  process.stdout.write(text + '\n');
  con.closeSync();
  instance.closeSync?.();
}

main().catch(e => {
  process.stderr.write(`duckdb_size: error: ${e.message ?? e}\n`);
  process.exit(1);
});
