// export_check.mjs - reads ticklake's Parquet exports with DuckDB and
// nodejs-polars (tests/interop/export_test.sh drives it).
//   rows DIR|FILE CSV            DuckDB read_parquet (hive_partitioning for a
//                                directory) = the rows of `ticklake scan
//                                --format csv` (every column, EXCEPT ALL both
//                                ways; timestamps compared at µs: DuckDB reads
//                                TIMESTAMP(UTC, NANOS) as TIMESTAMPTZ);
//                                the date= directory = the UTC day of timestamp
//   meta FILE                    parquet_metadata(): statistics (min, max,
//                                null_count) on every chunk; created_by;
//                                key-value metadata names the table
//   skip FILE SYMBOL DAY COUNT   overwrite every column chunk of the row groups
//                                that cannot hold SYMBOL on DAY with 0xFF, then
//                                count those rows in DuckDB: it must read only
//                                the one row group its statistics keep
//   polars DIR|FILE COUNT SUMVOL MINPRICE MAXPRICE
//                                nodejs-polars reads the export; row count and
//                                aggregates agree
//   delta DIR COUNT              DuckDB's delta extension, when installed
//                                (offline only; exit 3 = not available)
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';

const [cmd, ...args] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const lit = (s) => `'${String(s).replaceAll("'", "''")}'`;
const fail = (msg) => { console.error(msg); process.exit(1); };

function source(p) {
  return fs.statSync(p).isDirectory()
    ? `read_parquet(${lit(p + '/**/*.parquet')}, hive_partitioning = true)`
    : `read_parquet(${lit(p)})`;
}

if (cmd === 'rows') {
  const [p, csv] = args;
  const src = source(p);
  const cols = await q(`DESCRIBE SELECT * FROM ${src}`);
  const hive = fs.statSync(p).isDirectory();
  const types = {};
  for (const c of cols) types[c.column_name] = c.column_type;
  const header = fs.readFileSync(csv, 'utf8').split('\n', 1)[0].split(',');
  const csvTypes = [];
  const pqExpr = [], csvExpr = [];
  for (const name of header) {
    const t = types[name];
    if (!t) fail(`column ${name} of the scan is not in the export`);
    const qn = `"${name.replaceAll('"', '""')}"`;
    if (t.startsWith('TIMESTAMP')) {
      csvTypes.push(`${lit(name)}: 'BIGINT'`);
      pqExpr.push(`epoch_us(${qn})`);
      csvExpr.push(`(${qn} // 1000)`); // ns -> µs, floor (non-negative times)
    } else {
      csvTypes.push(`${lit(name)}: ${lit(t)}`);
      pqExpr.push(qn);
      csvExpr.push(qn);
    }
  }
  await q(`CREATE TABLE want AS SELECT * FROM read_csv(${lit(csv)}, header = true,
           columns = {${csvTypes.join(', ')}}, nullstr = '', quote = '"', escape = '"',
           allow_quoted_nulls = false)`);
  await q(`CREATE TABLE got AS SELECT * FROM ${src}`);
  const [n] = await q(`SELECT (SELECT count(*) FROM got) g, (SELECT count(*) FROM want) w`);
  if (n.g !== n.w) fail(`DuckDB reads ${n.g} rows, the scan printed ${n.w}`);
  const [d] = await q(`SELECT
      (SELECT count(*) FROM (SELECT ${pqExpr.join(', ')} FROM got EXCEPT ALL
                             SELECT ${csvExpr.join(', ')} FROM want)) a,
      (SELECT count(*) FROM (SELECT ${csvExpr.join(', ')} FROM want EXCEPT ALL
                             SELECT ${pqExpr.join(', ')} FROM got)) b`);
  if (d.a !== '0' || d.b !== '0') {
    const ex = await q(`SELECT ${pqExpr.join(', ')} FROM got EXCEPT ALL SELECT ${csvExpr.join(', ')} FROM want LIMIT 2`);
    fail(`${d.a} exported rows not in the scan, ${d.b} scanned rows not in the export; e.g. ${JSON.stringify(ex)}`);
  }
  if (hive) {
    const [h] = await q(`SELECT count(*) n FROM got
        WHERE "date" <> CAST(timezone('UTC', "timestamp") AS DATE)`);
    if (h.n !== '0') fail(`${h.n} rows whose date= directory is not the UTC day of their timestamp`);
  }
  console.log(`${n.g} rows x ${header.length} columns equal`);
} else if (cmd === 'meta') {
  const [f] = args;
  const [m] = await q(`SELECT count(*) chunks,
      count(*) FILTER (WHERE stats_null_count IS NULL) no_nulls,
      count(*) FILTER (WHERE (stats_min_value IS NULL OR stats_max_value IS NULL)
                         AND stats_null_count < num_values) no_minmax,
      count(*) FILTER (WHERE NOT min_is_exact OR NOT max_is_exact) inexact
      FROM parquet_metadata(${lit(f)})`);
  if (m.no_nulls !== '0' || m.no_minmax !== '0')
    fail(`of ${m.chunks} column chunks, ${m.no_nulls} lack null_count and ${m.no_minmax} lack min/max`);
  const [fm] = await q(`SELECT created_by FROM parquet_file_metadata(${lit(f)})`);
  if (!/^ticklake version \d+\.\d+\.\d+ \(build [^)]*\)$/.test(fm.created_by))
    fail(`created_by '${fm.created_by}'`);
  const kv = await q(`SELECT key::VARCHAR k, value::VARCHAR v FROM parquet_kv_metadata(${lit(f)})`);
  const keys = Object.fromEntries(kv.map((r) => [r.k, r.v]));
  for (const k of ['ticklake.table', 'ticklake.table_id', 'ticklake.version'])
    if (!(k in keys)) fail(`key-value metadata lacks ${k}: ${JSON.stringify(keys)}`);
  console.log(`${m.chunks} column chunks with statistics (${m.inexact} inexact), created_by '${fm.created_by}', table version ${keys['ticklake.version']}`);
} else if (cmd === 'skip') {
  const [f, sym, day, count] = args;
  const rgs = await q(`SELECT row_group_id rg,
      bool_or(path_in_schema = 'symbol' AND stats_min_value <= ${lit(sym)} AND stats_max_value >= ${lit(sym)}) has_sym,
      bool_or(path_in_schema = 'timestamp' AND TRY_CAST(stats_min_value AS TIMESTAMPTZ) < (${lit(day)}::DATE + 1)::TIMESTAMPTZ
              AND TRY_CAST(stats_max_value AS TIMESTAMPTZ) >= ${lit(day)}::DATE::TIMESTAMPTZ) has_day,
      list({o: coalesce(dictionary_page_offset, data_page_offset), n: total_compressed_size}) chunks
      FROM parquet_metadata(${lit(f)}) GROUP BY row_group_id ORDER BY row_group_id`);
  const keep = rgs.filter((r) => r.has_sym && r.has_day);
  if (rgs.length < 2 || keep.length !== 1)
    fail(`expected one row group of ${sym} on ${day} among several, found ${keep.length} of ${rgs.length}`);
  const fd = fs.openSync(f, 'r+');
  let smashed = 0;
  for (const r of rgs) {
    if (r.has_sym && r.has_day) continue;
    for (const c of r.chunks) {
      fs.writeSync(fd, Buffer.alloc(Number(c.n), 0xff), 0, Number(c.n), Number(c.o));
      smashed++;
    }
  }
  fs.closeSync(fd);
  const [r] = await q(`SELECT count(*) n, sum(volume) v FROM read_parquet(${lit(f)})
      WHERE symbol = ${lit(sym)} AND "timestamp" >= ${lit(day)}::DATE::TIMESTAMPTZ
        AND "timestamp" < (${lit(day)}::DATE + 1)::TIMESTAMPTZ`);
  if (r.n !== count) fail(`DuckDB counts ${r.n} rows, the scan ${count}`);
  console.log(`${rgs.length - 1} of ${rgs.length} row groups skipped by their statistics (${smashed} chunks overwritten, never read); ${r.n} rows`);
} else if (cmd === 'polars') {
  const pl = (await import('nodejs-polars')).default;
  const [p, count, sumvol, minp, maxp] = args;
  const dir = fs.statSync(p).isDirectory();
  const df = dir ? pl.scanParquet(`${p}/**/*.parquet`).collectSync() : pl.readParquet(p);
  const agg = df.select(pl.col('volume').sum().alias('v'), pl.col('price').min().alias('lo'),
                        pl.col('price').max().alias('hi'));
  const got = { n: df.height, v: String(agg.getColumn('v').get(0)),
                lo: agg.getColumn('lo').get(0), hi: agg.getColumn('hi').get(0) };
  if (String(got.n) !== count || got.v !== sumvol || got.lo !== Number(minp) || got.hi !== Number(maxp))
    fail(`polars: ${JSON.stringify(got)}; ticklake: ${JSON.stringify({ count, sumvol, minp, maxp })}`);
  console.log(`polars reads ${got.n} rows, sum(volume) ${got.v}, price ${got.lo} .. ${got.hi}`);
} else if (cmd === 'delta') {
  const [p, count] = args;
  try {
    await q(`SET autoinstall_known_extensions = false`);
    await q(`LOAD delta`);
  } catch (e) {
    console.log(`DuckDB delta extension not installed (offline): ${e.message.split('\n')[0]}`);
    process.exit(3);
  }
  const [r] = await q(`SELECT count(*) n FROM delta_scan(${lit(p)})`);
  if (r.n !== count) fail(`delta_scan: ${r.n} rows, expected ${count}`);
  console.log(`delta_scan reads ${r.n} rows`);
} else {
  fail(`usage: export_check.mjs rows|meta|skip|polars|delta ...`);
}
