/*
 * ticklake.c - the command-line tool. Thin: parses arguments, calls the
 * public API (ticklake.h only), prints results. Holds main(), the command
 * table, the helpers declared in cli.h (conventions every command keeps are
 * listed there; history --json prints one JSON array of version objects) and
 * the commands gen .. import; tools/cmd_*.c hold the rest.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- help texts ----------------------------------------------------------- */

static const char main_help[] =
    "usage: ticklake <command> [options]\n"
    "       ticklake --help | --version\n"
    "\n"
    "ticklake is a columnar storage engine for market tick data.\n"
    "\n"
    "commands:\n"
    "  gen       generate deterministic sample ticks into CSV or segment files\n"
    "  inspect   show what a segment file holds: rows, blocks, per-column sizes,\n"
    "            encodings and zone maps\n"
    "  verify    check every block checksum of segment files, or a whole table\n"
    "  dump      print rows of a segment file as CSV\n"
    "  help      show help for a command (same as <command> --help)\n"
    "\n"
    "tables:\n"
    "  create      create a table (schema, partitioning, sort key)\n"
    "  append      append a CSV file as one commit (idempotent with --app-id)\n"
    "  history     list the table's versions\n"
    "  describe    version, rows, files, schema and partitions of a version\n"
    "  cat         print rows of a version as CSV\n"
    "  checkpoint  write a checkpoint and clean up old commit files\n"
    "  vacuum      delete data files no retained version needs\n"
    "\n"
    "maintenance and data quality:\n"
    "  optimize    compact a partition's small files into files of a target size\n"
    "  repartition rewrite the table under a new partition spec or sort key\n"
    "  tag, tags   name a version (time travel and vacuum honour it), list names\n"
    "  validate    coverage and quality checks (gaps, bid > ask, spikes, dups)\n"
    "  resample    ticks to OHLCV bars or quotes per interval, into another table\n"
    "\n"
    "scans:\n"
    "  scan        rows, counts and aggregates of a version, with --where pruning\n"
    "  backtest    run the EMA-crossover backtest over a version\n"
    "\n"
    "Parquet:\n"
    "  export      write a version as Parquet (Hive partitions or one file),\n"
    "              optionally as a Delta Lake table\n"
    "  import      import Parquet files written by other tools as one commit\n"
    "\n"
    "Run 'ticklake <command> --help' for a command's options.\n"
    "Exit status: 0 ok, 1 error, 2 usage error.\n";

static const char gen_help[] =
    "usage: ticklake gen --seed N --days D (--out FILE.csv | --segments DIR |\n"
    "                    --table TABLE [--app-id ID --app-version N])\n"
    "                    [--start YYYY-MM-DD] [--symbols A,B,...]\n"
    "                    [--rows-per-day R] [--sorted] [--json]\n"
    "\n"
    "Generate synthetic NSE-style options ticks. The same arguments always\n"
    "produce byte-identical output.\n"
    "\n"
    "  --seed N          random seed (unsigned 64-bit integer)\n"
    "  --days D          trading days (weekdays) to generate, >= 1\n"
    "  --start DATE      first day, YYYY-MM-DD (default 2025-11-17)\n"
    "  --symbols LIST    comma-separated underlyings (default BANKNIFTY,NIFTY)\n"
    "  --rows-per-day R  ticks per symbol per day, >= 1 (default 1000000)\n"
    "  --out FILE        write CSV (header + rows) to FILE, replacing it\n"
    "  --segments DIR    write one segment file per symbol and day into DIR\n"
    "  --table TABLE     append the rows to a table (ticklake create) as one commit\n"
    "                    (created if missing), named SYMBOL_YYYY-MM-DD.tls;\n"
    "                    existing files are not overwritten (error)\n"
    "  --sorted          order each symbol-day's rows by (expiry, opt_type,\n"
    "                    strike, timestamp) instead of arrival order\n"
    "  --json            print one JSON object with the figures\n";

static const char inspect_help[] =
    "usage: ticklake inspect SEGFILE [--verify] [--json]\n"
    "\n"
    "Show a segment file: rows, row blocks, file bytes, bytes per row, and per\n"
    "column: type, encodings used (encoding x blocks), zstd blocks, stored\n"
    "bytes, bytes per row, decoded bytes, decoded/stored ratio, nulls, min and\n"
    "max (from the zone maps; a trailing \"…\" marks a string bound that is not\n"
    "exact). Opening checks the footer checksum only.\n"
    "\n"
    "  --verify  also check every block checksum (reads the whole file)\n"
    "  --json    print one JSON object\n";

static const char verify_help[] =
    "usage: ticklake verify SEGFILE... [--json]\n"
    "       ticklake verify TABLE [options]   (ticklake verify TABLE --help)\n"
    "\n"
    "Check the footer and every block checksum of each file. Exit 0 when all\n"
    "files are intact, else 1, naming each damaged file and block. Given a table\n"
    "directory: the log, checkpoints, tags and every data file a version needs.\n"
    "\n"
    "  --json  print one JSON object\n";

static const char dump_help[] =
    "usage: ticklake dump SEGFILE [--offset N] [--limit N]\n"
    "\n"
    "Print rows [N, N+limit) as CSV with a header line. Every block read has\n"
    "its checksum verified.\n"
    "\n"
    "  --offset N  first row (default 0)\n"
    "  --limit N   at most N rows (default: all)\n";

/* ---- errors ----------------------------------------------------------------- */

const char *g_cmd = NULL; /* for usage hints */

int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("ticklake: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (g_cmd)
        fprintf(stderr, "\nTry 'ticklake %s --help'.\n", g_cmd);
    else
        fputs("\nTry 'ticklake --help'.\n", stderr);
    return EXIT_USAGE;
}

int lib_error(const tl_error *err)
{
    fprintf(stderr, "ticklake: error: %s\n", err->msg[0] ? err->msg : tl_strerror(err->code));
    return EXIT_ERR;
}

/* ---- argument parsing --------------------------------------------------------- */


/* Parse argv[0..argc) into opts and positionals. Returns GO_ON, or the
 * command's exit status when it is over: EXIT_OK after printing help (on
 * --help/-h) to stdout, EXIT_USAGE after printing a usage error. */
int parse_args(int argc, char **argv, opt *opts, size_t n_opts, char **pos,
                      int *n_pos, int max_pos, const char *help)
{
    int only_pos = 0;
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(help, stdout);
            return EXIT_OK;
        }
        if (!only_pos && a[0] == '-' && a[1] != '\0') {
            const char *eq = strchr(a, '=');
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            opt *o = NULL;
            for (size_t k = 0; k < n_opts; k++)
                if (strlen(opts[k].name) == nl && strncmp(opts[k].name, a, nl) == 0)
                    o = &opts[k];
            if (!o)
                return usage_error("unknown option '%.*s'", (int)nl, a);
            if (o->value)
                return usage_error("option %s given twice", o->name);
            if (o->has_arg) {
                if (eq)
                    o->value = eq + 1;
                else if (i + 1 < argc)
                    o->value = argv[++i];
                else
                    return usage_error("option %s needs a value", o->name);
            } else {
                if (eq)
                    return usage_error("option %s takes no value", o->name);
                o->value = "";
            }
            continue;
        }
        if (*n_pos >= max_pos)
            return usage_error("unexpected argument '%s'", a);
        pos[(*n_pos)++] = a;
    }
    return GO_ON;
}

/* Open TABLE: EXIT_OK, or EXIT_ERR after printing the library's error. */
int open_table(const char *path, tl_table **t)
{
    tl_error err = {0};
    return tl_table_open(path, t, &err) == TL_OK ? EXIT_OK : lib_error(&err);
}

const char *opt_val(const opt *opts, size_t n, const char *name)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(opts[k].name, name) == 0)
            return opts[k].value;
    return NULL;
}

/* Unsigned decimal integer, digits only, no overflow. */
int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int parse_num_opt(const char *name, const char *s, uint64_t lo, uint64_t hi,
                         uint64_t *out)
{
    if (parse_u64(s, out) != 0 || *out < lo || *out > hi)
        return usage_error("%s: expected an integer from %" PRIu64 " to %" PRIu64 ", got '%s'",
                           name, lo, hi, s);
    return 0;
}

/* YYYY-MM-DD -> days since 1970-01-01; -1 if malformed or not a real date. */
int parse_date(const char *s, int32_t *days)
{
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 ||
        back.tm_mon != m - 1 || back.tm_mday != d)
        return -1;
    *days = (int32_t)(t / 86400);
    return 0;
}

/* ---- output helpers ------------------------------------------------------------- */

/* JSON string: escapes quotes, backslashes and control bytes; invalid
 * UTF-8 bytes become U+FFFD so the output is always valid JSON. */
void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            p++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\t': fputs("\\t", f); break;
            case '\r': fputs("\\r", f); break;
            default: fprintf(f, "\\u%04x", c); break;
            }
            p++;
        } else if (c < 0x80) {
            fputc(c, f);
            p++;
        } else {
            size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            uint32_t cp = len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
            size_t i = 1;
            for (; len && i < len; i++) {
                if ((p[i] & 0xC0) != 0x80)
                    break;
                cp = (cp << 6) | (p[i] & 0x3Fu);
            }
            int ok = len && i == len && !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) &&
                     !(len == 4 && cp < 0x10000) && cp <= 0x10FFFF &&
                     !(cp >= 0xD800 && cp <= 0xDFFF);
            if (ok) {
                fwrite(p, 1, len, f);
                p += len;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

/* A finite double as a JSON number. */
void json_num(FILE *f, double v)
{
    if (v != v || v > 1e300 || v < -1e300)
        v = 0;
    fprintf(f, "%.6g", v);
}

/* 1234567 -> "1,234,567" */
const char *grouped(uint64_t v, char *buf, size_t cap)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

const char *human_bytes(double b, char *buf, size_t cap)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4)
        b /= 1000, i++;
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", b, u[i]);
    return buf;
}

/* Display width of a UTF-8 string (code points). */
size_t disp_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void print_padded(const char *s, size_t width, int right)
{
    size_t w = disp_width(s);
    if (right)
        for (; w < width; w++)
            putchar(' ');
    fputs(s, stdout);
    if (!right)
        for (; w < width; w++)
            putchar(' ');
}

/* ---- gen ------------------------------------------------------------------------ */


/* The progress bar of long commands, on stderr: "<command> [####....] 42%  done / total rows". */
void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    bar *b = ctx;
    if (!b->active)
        return;
    int width = 30;
    int fill = total ? (int)((double)done / (double)total * width) : width;
    if (fill > width)
        fill = width;
    char line[160], ga[32], gb[32];
    int o = snprintf(line, sizeof line, "\r%s [", g_cmd ? g_cmd : "");
    for (int i = 0; i < width; i++)
        line[o++] = i < fill ? '#' : '.';
    snprintf(line + o, sizeof line - (size_t)o, "] %3d%%  %s / %s rows",
             total ? (int)(100.0 * (double)done / (double)total) : 100,
             grouped(done, ga, sizeof ga), grouped(total, gb, sizeof gb));
    fputs(line, stderr);
    fflush(stderr);
}

static int parse_app(const opt *opts, size_t no, tl_append_opts *ao);
static int gen_into_table(const tl_gen_opts *go, const char *table, const tl_append_opts *ao0,
                          int json);

static int cmd_gen(int argc, char **argv)
{
    opt opts[] = {{"--seed", 1, NULL},     {"--days", 1, NULL},    {"--start", 1, NULL},
                  {"--symbols", 1, NULL},  {"--rows-per-day", 1, NULL},
                  {"--out", 1, NULL},      {"--segments", 1, NULL}, {"--sorted", 0, NULL},
                  {"--json", 0, NULL},     {"--table", 1, NULL},    {"--app-id", 1, NULL},
                  {"--app-version", 1, NULL}, {"--max-memory", 1, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int n_pos;
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, 0, gen_help);
    if (st != GO_ON)
        return st;
    const char *seed_s = opt_val(opts, no, "--seed"), *days_s = opt_val(opts, no, "--days");
    const char *start_s = opt_val(opts, no, "--start"), *syms_s = opt_val(opts, no, "--symbols");
    const char *rows_s = opt_val(opts, no, "--rows-per-day");
    const char *out = opt_val(opts, no, "--out"), *segdir = opt_val(opts, no, "--segments");
    int sorted = opt_val(opts, no, "--sorted") != NULL, json = opt_val(opts, no, "--json") != NULL;
    if (!seed_s)
        return usage_error("missing --seed N");
    if (!days_s)
        return usage_error("missing --days D");
    const char *table = opt_val(opts, no, "--table");
    if ((out != NULL) + (segdir != NULL) + (table != NULL) != 1)
        return usage_error("give exactly one of --out FILE.csv, --segments DIR and --table TABLE");
    tl_append_opts ao = {0};
    if (parse_app(opts, no, &ao))
        return EXIT_USAGE;
    if (!table && (ao.app_id || ao.max_memory))
        return usage_error("--app-id, --app-version and --max-memory go with --table");
    if ((out && !*out) || (segdir && !*segdir) || (table && !*table))
        return usage_error("empty output path");

    tl_gen_opts go;
    tl_gen_opts_default(&go);
    uint64_t v = 0;
    if (parse_num_opt("--seed", seed_s, 0, UINT64_MAX, &v))
        return EXIT_USAGE;
    go.seed = v;
    if (parse_num_opt("--days", days_s, 1, 100000, &v))
        return EXIT_USAGE;
    go.days = (uint32_t)v;
    if (rows_s) {
        if (parse_num_opt("--rows-per-day", rows_s, 1, TL_GEN_MAX_ROWS_PER_DAY, &v))
            return EXIT_USAGE;
        go.rows_per_day = v;
    }
    if (start_s && parse_date(start_s, &go.start_day) != 0)
        return usage_error("--start: expected a date YYYY-MM-DD, got '%s'", start_s);
    char *syms_buf = NULL;
    const char **syms = NULL;
    if (syms_s) {
        syms_buf = strdup(syms_s);
        size_t n = 1;
        for (const char *p = syms_s; *p; p++)
            n += *p == ',';
        syms = calloc(n, sizeof *syms);
        if (!syms_buf || !syms) {
            fputs("ticklake: error: out of memory\n", stderr);
            return EXIT_ERR;
        }
        size_t k = 0;
        for (char *p = syms_buf, *e; p; p = e) {
            e = strchr(p, ',');
            if (e)
                *e++ = '\0';
            if (!*p) {
                free(syms_buf);
                free(syms);
                return usage_error("--symbols: empty symbol name in '%s'", syms_s);
            }
            for (size_t j = 0; j < k; j++)
                if (strcmp(syms[j], p) == 0) {
                    usage_error("--symbols: '%s' given twice", p);
                    free(syms_buf);
                    free(syms);
                    return EXIT_USAGE;
                }
            syms[k++] = p;
        }
        go.symbols = syms;
        go.n_symbols = (uint32_t)k;
    }
    go.sorted = sorted;

    if (table) {
        int r = gen_into_table(&go, table, &ao, json);
        free(syms_buf);
        free(syms);
        return r;
    }
    bar b = {.active = isatty(STDERR_FILENO)};
    tl_error err = {0};
    tl_gen_report rep;
    int rc;
    if (out)
        rc = tl_gen_write_csv(&go, out, progress_cb, &b, &rep, &err);
    else
        rc = tl_gen_write_segments(&go, segdir, NULL, progress_cb, &b, &rep, &err);
    if (b.active)
        fputs("\r\033[K", stderr);
    if (rc != TL_OK) {
        free(syms_buf);
        free(syms);
        return lib_error(&err);
    }
    double rps = rep.elapsed_s > 0 ? (double)rep.n_rows / rep.elapsed_s : 0;
    if (json) {
        printf("{\"command\":\"gen\",\"format\":");
        json_str(stdout, out ? "csv" : "segments");
        printf(",\"seed\":%" PRIu64 ",\"days\":%" PRIu32 ",\"rows_per_day\":%" PRIu64,
               go.seed, go.days, go.rows_per_day);
        printf(",\"symbols\":[");
        for (uint32_t i = 0; i < go.n_symbols; i++) {
            if (i)
                putchar(',');
            json_str(stdout, go.symbols[i]);
        }
        printf("],\"sorted\":%s,\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64, sorted ? "true" : "false",
               rep.n_rows, rep.bytes);
        printf(",\"bytes_per_row\":");
        json_num(stdout, rep.n_rows ? (double)rep.bytes / (double)rep.n_rows : 0);
        printf(",\"elapsed_s\":");
        json_num(stdout, rep.elapsed_s);
        printf(",\"rows_per_s\":");
        json_num(stdout, rps);
        printf(",\"files\":[");
        for (uint32_t i = 0; i < rep.n_files; i++) {
            if (i)
                putchar(',');
            json_str(stdout, rep.paths[i]);
        }
        printf("]}\n");
    } else {
        char ga[32], hb[32];
        if (segdir)
            for (uint32_t i = 0; i < rep.n_files; i++)
                printf("  %s\n", rep.paths[i]);
        printf("gen: %s rows -> %" PRIu32 " %s, %s (%.1f B/row) in %.2f s, %.2f M rows/s\n",
               grouped(rep.n_rows, ga, sizeof ga), rep.n_files,
               segdir ? (rep.n_files == 1 ? "segment file" : "segment files")
                      : (rep.n_files == 1 ? "CSV file" : "CSV files"),
               human_bytes((double)rep.bytes, hb, sizeof hb),
               rep.n_rows ? (double)rep.bytes / (double)rep.n_rows : 0.0, rep.elapsed_s,
               rps / 1e6);
    }
    tl_gen_report_free(&rep);
    free(syms_buf);
    free(syms);
    return EXIT_OK;
}

/* ---- inspect ---------------------------------------------------------------------- */

static void encodings_text(const tl_segment_col_stats *cs, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int e = 0; e < 8; e++) {
        if (!cs->blocks_by_encoding[e])
            continue;
        int n = snprintf(buf + o, cap - o, "%s%s×%" PRIu32, o ? "," : "", tl_encoding_name(e),
                         cs->blocks_by_encoding[e]);
        if (n < 0 || (size_t)n >= cap - o)
            break;
        o += (size_t)n;
    }
}

static int cmd_inspect(int argc, char **argv)
{
    opt opts[] = {{"--json", 0, NULL}, {"--verify", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int n_pos;
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, 1, inspect_help);
    if (st != GO_ON)
        return st;
    if (n_pos != 1)
        return usage_error("missing SEGFILE");
    int json = opt_val(opts, no, "--json") != NULL;
    int verify = opt_val(opts, no, "--verify") != NULL;
    const char *path = pos[0];

    tl_error err = {0};
    tl_segment *s = NULL;
    if (tl_segment_open(path, &s, &err) != TL_OK)
        return lib_error(&err);
    if (verify && tl_segment_verify(s, &err) != TL_OK) {
        tl_segment_close(s);
        return lib_error(&err);
    }
    uint64_t rows = tl_segment_n_rows(s), fbytes = tl_segment_file_bytes(s);
    uint32_t n_cols = tl_segment_n_cols(s), n_blocks = tl_segment_n_blocks(s);
    tl_segment_col_stats *cs = calloc(n_cols ? n_cols : 1, sizeof *cs);
    if (!cs) {
        tl_segment_close(s);
        fputs("ticklake: error: out of memory\n", stderr);
        return EXIT_ERR;
    }
    for (uint32_t c = 0; c < n_cols; c++)
        if (tl_segment_col_stats_get(s, c, &cs[c], &err) != TL_OK) {
            free(cs);
            tl_segment_close(s);
            return lib_error(&err);
        }
    double bpr = rows ? (double)fbytes / (double)rows : 0;
    if (json) {
        printf("{\"command\":\"inspect\",\"file\":");
        json_str(stdout, path);
        printf(",\"rows\":%" PRIu64 ",\"blocks\":%" PRIu32 ",\"columns_count\":%" PRIu32
               ",\"file_bytes\":%" PRIu64 ",\"bytes_per_row\":",
               rows, n_blocks, n_cols, fbytes);
        json_num(stdout, bpr);
        printf(",\"blocks_verified\":%s,\"columns\":[", verify ? "true" : "false");
        for (uint32_t c = 0; c < n_cols; c++) {
            const tl_segment_col_stats *x = &cs[c];
            printf("%s{\"name\":", c ? "," : "");
            json_str(stdout, x->name);
            printf(",\"type\":");
            json_str(stdout, tl_type_name((int)x->type));
            printf(",\"encodings\":{");
            int first = 1;
            for (int e = 0; e < 8; e++) {
                if (!x->blocks_by_encoding[e])
                    continue;
                printf("%s", first ? "" : ",");
                json_str(stdout, tl_encoding_name(e));
                printf(":%" PRIu32, x->blocks_by_encoding[e]);
                first = 0;
            }
            printf("},\"zstd_blocks\":%" PRIu32 ",\"stored_bytes\":%" PRIu64
                   ",\"decoded_bytes\":%" PRIu64 ",\"bytes_per_row\":",
                   x->blocks_zstd, x->stored_bytes, x->decoded_bytes);
            json_num(stdout, rows ? (double)x->stored_bytes / (double)rows : 0);
            printf(",\"ratio\":");
            json_num(stdout, x->stored_bytes ? (double)x->decoded_bytes / (double)x->stored_bytes : 0);
            printf(",\"nulls\":%" PRIu64 ",\"min\":", x->null_count);
            if (x->min_text[0])
                json_str(stdout, x->min_text);
            else
                printf("null");
            printf(",\"max\":");
            if (x->max_text[0])
                json_str(stdout, x->max_text);
            else
                printf("null");
            printf("}");
        }
        printf("]}\n");
    } else {
        char ga[32], gb[32], hb[32];
        printf("file        %s\n", path);
        printf("rows        %s\n", grouped(rows, ga, sizeof ga));
        printf("blocks      %" PRIu32 " row blocks x %" PRIu32 " columns\n", n_blocks, n_cols);
        printf("file bytes  %s (%s, %.2f B/row)\n", grouped(fbytes, gb, sizeof gb),
               human_bytes((double)fbytes, hb, sizeof hb), bpr);
        printf("checksums   %s\n\n", verify ? "footer and every block verified"
                                             : "footer verified (--verify checks every block)");
        const char *hdr[] = {"column", "type",  "encodings", "zstd", "stored B", "B/row",
                             "decoded B", "ratio", "nulls", "min", "max"};
        enum { NF = 11 };
        static const int right[NF] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0};
        size_t w[NF];
        char cells[NF][128];
        for (int k = 0; k < NF; k++)
            w[k] = disp_width(hdr[k]);
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) {
                for (int k = 0; k < NF; k++) {
                    print_padded(hdr[k], k == NF - 1 ? 0 : w[k], right[k]);
                    if (k < NF - 1)
                        fputs("  ", stdout);
                }
                putchar('\n');
            }
            for (uint32_t c = 0; c < n_cols; c++) {
                const tl_segment_col_stats *x = &cs[c];
                snprintf(cells[0], sizeof cells[0], "%s", x->name);
                snprintf(cells[1], sizeof cells[1], "%s", tl_type_name((int)x->type));
                encodings_text(x, cells[2], sizeof cells[2]);
                snprintf(cells[3], sizeof cells[3], "%" PRIu32, x->blocks_zstd);
                grouped(x->stored_bytes, cells[4], sizeof cells[4]);
                snprintf(cells[5], sizeof cells[5], "%.3f",
                         rows ? (double)x->stored_bytes / (double)rows : 0.0);
                grouped(x->decoded_bytes, cells[6], sizeof cells[6]);
                snprintf(cells[7], sizeof cells[7], "%.2fx",
                         x->stored_bytes ? (double)x->decoded_bytes / (double)x->stored_bytes : 0.0);
                grouped(x->null_count, cells[8], sizeof cells[8]);
                snprintf(cells[9], sizeof cells[9], "%s", x->min_text[0] ? x->min_text : "-");
                snprintf(cells[10], sizeof cells[10], "%s", x->max_text[0] ? x->max_text : "-");
                for (int k = 0; k < NF; k++) {
                    if (pass == 0) {
                        size_t dw = disp_width(cells[k]);
                        if (dw > w[k])
                            w[k] = dw;
                    } else {
                        print_padded(cells[k], k == NF - 1 ? 0 : w[k], right[k]);
                        if (k < NF - 1)
                            fputs("  ", stdout);
                    }
                }
                if (pass == 1)
                    putchar('\n');
            }
        }
    }
    free(cs);
    tl_segment_close(s);
    return EXIT_OK;
}

/* ---- verify ------------------------------------------------------------------------ */

static int cmd_verify(int argc, char **argv)
{
    opt opts[] = {{"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    int n_pos;
    if (!pos) {
        fputs("ticklake: error: out of memory\n", stderr);
        return EXIT_ERR;
    }
    /* a directory (the first argument that is not an option) is a table:
     * the table check, with its own options */
    for (int i = 0; i < argc; i++) {
        struct stat sb;
        if (strcmp(argv[i], "--") == 0 || argv[i][0] != '-') {
            const char *a = strcmp(argv[i], "--") == 0 && i + 1 < argc ? argv[i + 1] : argv[i];
            if (stat(a, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                free(pos);
                return cmd_fsck(argc, argv);
            }
            break;
        }
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "--timestamp") == 0)
            i++; /* fsck's options with a value */
    }
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, argc, verify_help);
    if (st != GO_ON) {
        free(pos);
        return st;
    }
    if (n_pos == 0) {
        free(pos);
        return usage_error("missing SEGFILE or TABLE");
    }
    int json = opt_val(opts, no, "--json") != NULL;
    int n_bad = 0;
    if (json)
        printf("{\"command\":\"verify\",\"files\":[");
    for (int i = 0; i < n_pos; i++) {
        tl_error err = {0};
        tl_segment *s = NULL;
        int rc = tl_segment_open(pos[i], &s, &err);
        if (rc == TL_OK)
            rc = tl_segment_verify(s, &err);
        uint64_t rows = s ? tl_segment_n_rows(s) : 0;
        uint32_t blocks = s ? tl_segment_n_blocks(s) : 0;
        tl_segment_close(s);
        if (rc != TL_OK) {
            n_bad++;
            fprintf(stderr, "ticklake: error: %s\n", err.msg);
        }
        if (json) {
            printf("%s{\"file\":", i ? "," : "");
            json_str(stdout, pos[i]);
            if (rc == TL_OK) {
                printf(",\"ok\":true,\"rows\":%" PRIu64 ",\"blocks\":%" PRIu32 "}", rows, blocks);
            } else {
                printf(",\"ok\":false,\"error\":");
                json_str(stdout, err.msg);
                printf("}");
            }
        } else if (rc == TL_OK) {
            char ga[32];
            printf("ok      %s (%s rows, %" PRIu32 " blocks)\n", pos[i],
                   grouped(rows, ga, sizeof ga), blocks);
        } else {
            printf("FAILED  %s\n", pos[i]);
        }
    }
    if (json)
        printf("],\"ok\":%d,\"failed\":%d}\n", n_pos - n_bad, n_bad);
    else
        printf("verify: %d ok, %d failed\n", n_pos - n_bad, n_bad);
    free(pos);
    return n_bad ? EXIT_ERR : EXIT_OK;
}

/* ---- dump ------------------------------------------------------------------------ */

static int cmd_dump(int argc, char **argv)
{
    opt opts[] = {{"--offset", 1, NULL}, {"--limit", 1, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int n_pos;
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, 1, dump_help);
    if (st != GO_ON)
        return st;
    if (n_pos != 1)
        return usage_error("missing SEGFILE");
    uint64_t offset = 0, limit = UINT64_MAX;
    const char *o = opt_val(opts, no, "--offset"), *l = opt_val(opts, no, "--limit");
    if (o && parse_num_opt("--offset", o, 0, UINT64_MAX, &offset))
        return EXIT_USAGE;
    if (l && parse_num_opt("--limit", l, 0, UINT64_MAX, &limit))
        return EXIT_USAGE;
    tl_error err = {0};
    tl_segment *s = NULL;
    if (tl_segment_open(pos[0], &s, &err) != TL_OK)
        return lib_error(&err);
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    int rc = tl_segment_print_csv(s, offset, limit, stdout, &err);
    tl_segment_close(s);
    if (rc != TL_OK) {
        fflush(stdout);
        return lib_error(&err);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "ticklake: error: writing to stdout: %s\n", strerror(errno));
        return EXIT_ERR;
    }
    return EXIT_OK;
}

/* ---- tables: shared helpers ------------------------------------------------------- */

/* Parse the arguments of a command that takes exactly one TABLE: GO_ON with
 * pos[0] set, or the exit status (after help or a usage error). */
int table_args(int argc, char **argv, opt *opts, size_t n_opts, char **pos,
                      const char *help)
{
    int n_pos;
    int st = parse_args(argc, argv, opts, n_opts, pos, &n_pos, 1, help);
    if (st != GO_ON)
        return st;
    if (n_pos != 1)
        return usage_error("missing TABLE");
    return GO_ON;
}

/* "2025-11-18T10:00:00[.mmm][Z]", "2025-11-18 10:00:00", "2025-11-18" (UTC)
 * or integer ms since the epoch -> ms. -1 if malformed. */
int parse_time_ms(const char *s, int64_t *ms)
{
    uint64_t v = 0;
    if (parse_u64(s, &v) == 0) {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *ms = (int64_t)v;
        return 0;
    }
    char date[11];
    if (strlen(s) < 10)
        return -1;
    memcpy(date, s, 10);
    date[10] = '\0';
    int32_t days;
    if (parse_date(date, &days) != 0)
        return -1;
    const char *p = s + 10;
    int hh = 0, mi = 0, ss = 0, frac = 0, n = 0;
    if (*p == 'T' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d%n", &hh, &mi, &n) != 2 || n != 5)
            return -1;
        p += 1 + n;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &ss, &n) != 1 || n != 2)
                return -1;
            p += 3;
            if (*p == '.') {
                p++;
                int digits = 0;
                while (*p >= '0' && *p <= '9') {
                    if (digits < 3)
                        frac = frac * 10 + (*p - '0');
                    digits++;
                    p++;
                }
                if (!digits)
                    return -1;
                for (; digits < 3; digits++)
                    frac *= 10;
            }
        }
        if (*p == 'Z')
            p++;
        if (hh > 23 || mi > 59 || ss > 60)
            return -1;
    }
    if (*p)
        return -1;
    *ms = ((int64_t)days * 86400 + hh * 3600 + mi * 60 + ss) * 1000 + frac;
    return 0;
}

void fmt_ms(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03dZ", (int)(((ms % 1000) + 1000) % 1000));
}

void fmt_day(int32_t day, char *buf, size_t cap)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%d", &tm);
}

/* --version N | --timestamp T -> tl_at; EXIT_USAGE printed on error. */
int parse_at(const char *ver, const char *ts, tl_at *at)
{
    memset(at, 0, sizeof *at);
    if (ver && ts)
        return usage_error("give at most one of --version and --timestamp");
    uint64_t v = 0;
    if (ver) {
        if (parse_num_opt("--version", ver, 0, (uint64_t)INT64_MAX, &v))
            return EXIT_USAGE;
        at->kind = TL_AT_VERSION;
        at->version = (int64_t)v;
    } else if (ts) {
        if (parse_time_ms(ts, &at->ts_ms) != 0)
            return usage_error("--timestamp: expected YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z] (UTC) or "
                               "milliseconds since the epoch, got '%s'",
                               ts);
        at->kind = TL_AT_TIMESTAMP;
    }
    return 0;
}

/* parse_at for a command on TABLE: --version may also name a tag of the
 * table (resolved to its version now; LOG-T8). 0, EXIT_USAGE or EXIT_ERR
 * (printed). */
int parse_at_table(const char *table, const char *ver, const char *ts, tl_at *at)
{
    uint64_t v;
    if (!ver || parse_u64(ver, &v) == 0 || ts)
        return parse_at(ver, ts, at);
    memset(at, 0, sizeof *at);
    tl_table *t = NULL;
    tl_error err = {0};
    int rc = tl_table_open(table, &t, &err);
    if (rc == TL_OK)
        rc = tl_at_parse(t, ver, at, NULL, &err);
    tl_table_close(t);
    if (rc == TL_EINVAL)
        return usage_error("--version: expected a version number or a tag name, got '%s' (%s)",
                           ver, err.msg);
    return rc == TL_OK ? 0 : lib_error(&err);
}

void progress_rows(void *ctx, uint64_t done, uint64_t total)
{
    bar *b = ctx;
    if (!b->active)
        return;
    char ga[32], gb[32];
    if (total)
        fprintf(stderr, "\r%3d%%  %s / %s", (int)(100.0 * (double)done / (double)total),
                human_bytes((double)done, ga, sizeof ga), human_bytes((double)total, gb, sizeof gb));
    else
        fprintf(stderr, "\r%s rows buffered", grouped(done, ga, sizeof ga));
    fflush(stderr);
}

static void print_append_result(const char *cmd, const char *table, const tl_append_result *r,
                                int json)
{
    double rps = r->elapsed_s > 0 ? (double)r->n_rows / r->elapsed_s : 0;
    if (json) {
        printf("{\"command\":");
        json_str(stdout, cmd);
        printf(",\"table\":");
        json_str(stdout, table);
        printf(",\"version\":%" PRId64 ",\"noop\":%s,\"rows\":%" PRIu64 ",\"files\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"partitions\":%u,\"attempts\":%d,\"elapsed_s\":",
               r->version, r->noop ? "true" : "false", r->n_rows, r->n_files, r->bytes,
               r->n_partitions, r->attempts);
        json_num(stdout, r->elapsed_s);
        printf(",\"rows_per_s\":");
        json_num(stdout, rps);
        printf("}\n");
        return;
    }
    char ga[32], hb[32];
    if (r->noop)
        printf("%s: already applied at version %" PRId64 " (app id and version seen); nothing "
               "written\n",
               cmd, r->version);
    else if (r->n_files == 0)
        printf("%s: no rows; nothing committed (table at version %" PRId64 ")\n", cmd, r->version);
    else
        printf("%s: version %" PRId64 ": %s rows in %" PRIu64 " file%s, %u partition%s, %s, in "
               "%.2f s (%.2f M rows/s)\n",
               cmd, r->version, grouped(r->n_rows, ga, sizeof ga), r->n_files,
               r->n_files == 1 ? "" : "s", r->n_partitions, r->n_partitions == 1 ? "" : "s",
               human_bytes((double)r->bytes, hb, sizeof hb), r->elapsed_s, rps / 1e6);
}

/* ---- create ---------------------------------------------------------------------- */

static const char create_help[] =
    "usage: ticklake create TABLE --schema ticks|FILE [--partition SPEC] [--sort COLS]\n"
    "                       [--name NAME] [--checkpoint-interval N]\n"
    "                       [--log-retention-hours H] [--deleted-file-retention-hours H]\n"
    "\n"
    "Create a table (a directory with a _delta_log/; spec/LOG.md).\n"
    "\n"
    "  --schema ticks    the generator's 35 columns; defaults: --partition\n"
    "                    symbol,day(timestamp) --sort expiry,opt_type,strike,timestamp\n"
    "  --schema FILE     one column per line: NAME TYPE [nullable]; '#' starts a\n"
    "                    comment. TYPE: bool int8 int16 int32 int64 uint8 uint16\n"
    "                    uint32 uint64 float32 float64 timestamp date string\n"
    "                    timestamp_us\n"
    "  --partition SPEC  comma-separated: COL or symbol(COL) partitions by a string\n"
    "                    column, day(COL) by the UTC day of a timestamp column;\n"
    "                    'none' = unpartitioned (default for a schema file)\n"
    "  --sort COLS       comma-separated sort key, most significant first (every\n"
    "                    data file is sorted by it, stable, nulls first)\n"
    "  --checkpoint-interval N   checkpoint every N commits (default 100)\n"
    "  --log-retention-hours H   keep covered commit files H hours, >= 1 (default\n"
    "                    720; log cleanup never keeps less than an hour)\n"
    "  --deleted-file-retention-hours H  keep removed data files H hours, >= 1\n"
    "                    (default 168)\n";


int split_list(const char *s, strlist *out)
{
    memset(out, 0, sizeof *out);
    out->buf = strdup(s);
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    out->v = calloc(n, sizeof *out->v);
    if (!out->buf || !out->v)
        return -1;
    for (char *p = out->buf, *e; p; p = e) {
        e = strchr(p, ',');
        if (e)
            *e++ = '\0';
        while (*p == ' ')
            p++;
        size_t l = strlen(p);
        while (l && p[l - 1] == ' ')
            p[--l] = '\0';
        out->v[out->n++] = p;
    }
    return 0;
}

void strlist_free(strlist *l)
{
    free(l->buf);
    free(l->v);
}

/* Read a schema file: NAME TYPE [nullable] per line. */
static int read_schema_file(const char *path, tl_field **fields, uint32_t *n, char **store)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ticklake: error: %s: %s\n", path, strerror(errno));
        return EXIT_ERR;
    }
    size_t cap = 0, len = 0;
    char *all = NULL;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *q = realloc(all, cap);
            if (!q) {
                free(all);
                fclose(f);
                fputs("ticklake: error: out of memory\n", stderr);
                return EXIT_ERR;
            }
            all = q;
        }
        memcpy(all + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (!all) {
        fprintf(stderr, "ticklake: error: %s: empty schema file\n", path);
        return EXIT_ERR;
    }
    all[len] = '\0';
    size_t nf = 0, fcap = 0;
    tl_field *fs = NULL;
    int line = 0;
    for (char *p = all, *e; p && *p; p = e) {
        e = strchr(p, '\n');
        if (e)
            *e++ = '\0';
        line++;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        char *tok[4];
        int nt = 0;
        for (char *save = NULL, *w = strtok_r(p, " \t\r", &save); w;
             w = strtok_r(NULL, " \t\r", &save))
            if (nt < 4)
                tok[nt++] = w;
            else
                nt = 5;
        if (nt == 0)
            continue;
        tl_type ty;
        if (nt < 2 || nt > 3 || tl_type_from_name(tok[1], &ty) != TL_OK ||
            (nt == 3 && strcmp(tok[2], "nullable") != 0)) {
            fprintf(stderr,
                    "ticklake: error: %s: line %d: expected 'NAME TYPE [nullable]' with a known "
                    "type\n",
                    path, line);
            free(fs);
            free(all);
            return EXIT_ERR;
        }
        if (nf == fcap) {
            fcap = fcap ? fcap * 2 : 16;
            tl_field *q = realloc(fs, fcap * sizeof *fs);
            if (!q) {
                free(fs);
                free(all);
                return EXIT_ERR;
            }
            fs = q;
        }
        fs[nf++] = (tl_field){tok[0], ty, nt == 3};
    }
    if (nf == 0) {
        fprintf(stderr, "ticklake: error: %s: no columns\n", path);
        free(fs);
        free(all);
        return EXIT_ERR;
    }
    *fields = fs;
    *n = (uint32_t)nf;
    *store = all;
    return EXIT_OK;
}

static int cmd_create(int argc, char **argv)
{
    opt opts[] = {{"--schema", 1, NULL},
                  {"--partition", 1, NULL},
                  {"--sort", 1, NULL},
                  {"--name", 1, NULL},
                  {"--checkpoint-interval", 1, NULL},
                  {"--log-retention-hours", 1, NULL},
                  {"--deleted-file-retention-hours", 1, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, create_help);
    if (st != GO_ON)
        return st;
    const char *schema = opt_val(opts, no, "--schema");
    if (!schema)
        return usage_error("missing --schema ticks|FILE");
    tl_table_spec spec;
    tl_field *fields = NULL;
    char *store = NULL;
    if (strcmp(schema, "ticks") == 0) {
        tl_ticks_table_spec(&spec);
    } else {
        memset(&spec, 0, sizeof spec);
        st = read_schema_file(schema, &fields, &spec.n_fields, &store);
        if (st)
            return st;
        spec.fields = fields;
    }
    const char *part = opt_val(opts, no, "--partition"), *sort = opt_val(opts, no, "--sort");
    const char *name = opt_val(opts, no, "--name");
    strlist pl = {0}, sl = {0};
    char **dup = NULL;
    int ret = EXIT_USAGE;
    if (name)
        spec.name = name;
    if (part) {
        spec.symbol_column = spec.day_column = NULL;
        if (strcmp(part, "none") != 0) {
            if (split_list(part, &pl))
                goto out;
            dup = calloc(pl.n, sizeof *dup);
            for (uint32_t i = 0; i < pl.n; i++) {
                char *it = (char *)pl.v[i];
                size_t l = strlen(it);
                int is_day = strncmp(it, "day(", 4) == 0 && l > 5 && it[l - 1] == ')';
                int is_sym = strncmp(it, "symbol(", 7) == 0 && l > 8 && it[l - 1] == ')';
                if (is_day || is_sym) {
                    it[l - 1] = '\0';
                    it += is_day ? 4 : 7;
                }
                if (!*it || strchr(it, '(') || strchr(it, ')')) {
                    usage_error("--partition: bad item '%s' (expected COL, symbol(COL) or "
                                "day(COL))",
                                pl.v[i]);
                    goto out;
                }
                const char **slot = is_day ? &spec.day_column : &spec.symbol_column;
                if (*slot) {
                    usage_error("--partition: two %s partitions", is_day ? "day" : "symbol");
                    goto out;
                }
                *slot = it;
            }
        }
    } else if (fields) {
        spec.symbol_column = spec.day_column = NULL;
    }
    if (sort) {
        if (strcmp(sort, "none") == 0) {
            spec.n_sort_key = 0;
        } else {
            if (split_list(sort, &sl))
                goto out;
            spec.sort_key = sl.v;
            spec.n_sort_key = sl.n;
        }
    } else if (fields) {
        spec.n_sort_key = 0;
    }
    if (fields)
        spec.n_hot = 0;
    static const char *const cfg_opt[3] = {"--checkpoint-interval", "--log-retention-hours",
                                           "--deleted-file-retention-hours"};
    int64_t *cfg_dst[3] = {&spec.checkpoint_interval, &spec.log_retention_hours,
                           &spec.deleted_file_retention_hours};
    for (int i = 0; i < 3; i++) {
        const char *v = opt_val(opts, no, cfg_opt[i]);
        uint64_t x = 0;
        if (v) {
            /* at least 1: 0 would mean "the default" in the spec struct, and
             * neither log cleanup (LOG-R84) nor vacuum without --force
             * (LOG-R82) keeps anything for less than an hour */
            if (parse_num_opt(cfg_opt[i], v, 1, 1000000, &x))
                goto out;
            *cfg_dst[i] = (int64_t)x;
        }
    }
    tl_error err = {0};
    if (tl_table_create(pos[0], &spec, &err) != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    printf("create: table %s (%u columns", pos[0], spec.n_fields);
    if (spec.symbol_column || spec.day_column) {
        printf(", partitioned by");
        if (spec.symbol_column)
            printf(" symbol(%s)", spec.symbol_column);
        if (spec.day_column)
            printf(" day(%s)", spec.day_column);
    }
    if (spec.n_sort_key) {
        printf(", sorted by");
        for (uint32_t i = 0; i < spec.n_sort_key; i++)
            printf("%s%s", i ? "," : " ", spec.sort_key[i]);
    }
    printf(") at version 0\n");
    ret = EXIT_OK;
out:
    strlist_free(&pl);
    strlist_free(&sl);
    free(dup);
    free(fields);
    free(store);
    return ret;
}

/* ---- append ---------------------------------------------------------------------- */

static const char append_help[] =
    "usage: ticklake append TABLE FILE.csv [--app-id ID --app-version N]\n"
    "                       [--max-memory MB] [--json]\n"
    "\n"
    "Append the rows of a CSV file (header naming the columns, in any order;\n"
    "'-' reads stdin) as one commit. Rows are split by partition and sorted by\n"
    "the table's sort key. With --app-id/--app-version the append is idempotent:\n"
    "if the table already holds that app id at a version >= N, nothing is written.\n"
    "\n"
    "  --max-memory MB   buffer at most about MB MiB of rows before writing a\n"
    "                    partition out (default 256)\n";

static int parse_app(const opt *opts, size_t no, tl_append_opts *ao)
{
    const char *id = opt_val(opts, no, "--app-id"), *ver = opt_val(opts, no, "--app-version");
    if (!id != !ver)
        return usage_error("--app-id and --app-version go together");
    if (id) {
        uint64_t v = 0;
        if (!*id)
            return usage_error("--app-id: empty");
        if (parse_num_opt("--app-version", ver, 0, (uint64_t)INT64_MAX, &v))
            return EXIT_USAGE;
        ao->app_id = id;
        ao->app_version = (int64_t)v;
    }
    const char *mm = opt_val(opts, no, "--max-memory");
    if (mm) {
        uint64_t v = 0;
        if (parse_num_opt("--max-memory", mm, 1, 1u << 20, &v))
            return EXIT_USAGE;
        ao->max_memory = (size_t)v << 20;
    }
    return 0;
}

static int cmd_append(int argc, char **argv)
{
    opt opts[] = {{"--app-id", 1, NULL}, {"--app-version", 1, NULL}, {"--max-memory", 1, NULL},
                  {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[2] = {0};
    int n_pos;
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, 2, append_help);
    if (st != GO_ON)
        return st;
    if (n_pos != 2)
        return usage_error("expected TABLE FILE.csv");
    tl_append_opts ao = {0};
    if (parse_app(opts, no, &ao))
        return EXIT_USAGE;
    bar b = {.active = isatty(STDERR_FILENO)};
    ao.progress = progress_rows;
    ao.progress_ctx = &b;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    tl_error err = {0};
    tl_append_result res;
    int rc = tl_table_append_csv(t, pos[1], &ao, &res, &err);
    if (b.active)
        fputs("\r\033[K", stderr);
    tl_table_close(t);
    if (rc != TL_OK)
        return lib_error(&err);
    print_append_result("append", pos[0], &res, opt_val(opts, no, "--json") != NULL);
    return EXIT_OK;
}

/* gen --table: generate and append as one commit. */
static int gen_into_table(const tl_gen_opts *go, const char *table, const tl_append_opts *ao0,
                          int json)
{
    tl_error err = {0};
    tl_table *t;
    if (tl_table_open(table, &t, &err) != TL_OK)
        return lib_error(&err);
    tl_gen *g;
    if (tl_gen_open(go, &g, &err) != TL_OK) {
        tl_table_close(t);
        return lib_error(&err);
    }
    tl_append_opts ao = *ao0;
    tl_append *a;
    int rc = tl_append_begin(t, &ao, &a, &err);
    bar b = {.active = isatty(STDERR_FILENO)};
    uint64_t total = tl_gen_total_rows(g), done_rows = 0;
    while (rc == TL_OK) {
        tl_batch batch;
        int done;
        rc = tl_gen_next(g, 65536, &batch, &done, &err);
        if (rc || done)
            break;
        rc = tl_append_batch(a, &batch, &err);
        done_rows += batch.n_rows;
        progress_cb(&b, done_rows, total);
    }
    tl_gen_close(g);
    tl_append_result res;
    if (rc == TL_OK)
        rc = tl_append_commit(a, &res, &err);
    else
        tl_append_abort(a);
    if (b.active)
        fputs("\r\033[K", stderr);
    tl_table_close(t);
    if (rc != TL_OK)
        return lib_error(&err);
    print_append_result("gen", table, &res, json);
    return EXIT_OK;
}

/* ---- history --------------------------------------------------------------------- */

static const char history_help[] =
    "usage: ticklake history TABLE [--json]\n"
    "\n"
    "List the table's versions, oldest first: version, commit time (in-commit\n"
    "timestamp, UTC), operation, rows and files added and removed. --json prints\n"
    "a JSON array with one object per version.\n";

static int cmd_history(int argc, char **argv)
{
    opt opts[] = {{"--json", 0, NULL}};
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, 1, pos, history_help);
    if (st != GO_ON)
        return st;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    tl_error err = {0};
    tl_history_entry *h;
    size_t n;
    int rc = tl_table_history(t, &h, &n, &err);
    tl_table_close(t);
    if (rc != TL_OK)
        return lib_error(&err);
    char tb[40];
    if (opts[0].value) {
        putchar('[');
        for (size_t i = 0; i < n; i++) {
            fmt_ms(h[i].timestamp_ms, tb, sizeof tb);
            printf("%s{\"version\":%" PRId64 ",\"timestamp_ms\":%" PRId64 ",\"timestamp\":\"%s\","
                   "\"operation\":",
                   i ? "," : "", h[i].version, h[i].timestamp_ms, tb);
            json_str(stdout, h[i].operation);
            if (h[i].has_read_version)
                printf(",\"read_version\":%" PRId64, h[i].read_version);
            printf(",\"added_files\":%" PRId64 ",\"added_rows\":%" PRId64
                   ",\"removed_files\":%" PRId64 ",\"removed_rows\":%" PRId64 "}",
                   h[i].added_files, h[i].added_rows, h[i].removed_files, h[i].removed_rows);
        }
        printf("]\n");
    } else {
        printf("%8s  %-24s  %-14s %14s %7s %14s %7s\n", "version", "timestamp (UTC)", "operation",
               "rows added", "files", "rows removed", "files");
        for (size_t i = 0; i < n; i++) {
            char ga[32], gb[32];
            fmt_ms(h[i].timestamp_ms, tb, sizeof tb);
            printf("%8" PRId64 "  %-24s  %-14s %14s %7" PRId64 " %14s %7" PRId64 "\n", h[i].version,
                   tb, h[i].operation[0] ? h[i].operation : "(checkpoint)",
                   grouped((uint64_t)h[i].added_rows, ga, sizeof ga), h[i].added_files,
                   grouped((uint64_t)h[i].removed_rows, gb, sizeof gb), h[i].removed_files);
        }
    }
    free(h);
    return EXIT_OK;
}

/* ---- describe ---------------------------------------------------------------------- */

static const char describe_help[] =
    "usage: ticklake describe TABLE [--version N|TAG | --timestamp T] [--json]\n"
    "\n"
    "Describe the table at its latest version, at version N, or as of time T\n"
    "(YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z], UTC, or ms since the epoch: the latest\n"
    "version committed at or before T): version, rows, files, bytes, schema,\n"
    "partitioning, sort key, configuration and every partition.\n";

static int cmd_describe(int argc, char **argv)
{
    opt opts[] = {{"--version", 1, NULL}, {"--timestamp", 1, NULL}, {"--json", 0, NULL}};
    size_t no = 3;
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, describe_help);
    if (st != GO_ON)
        return st;
    tl_at at;
    if ((st = parse_at_table(pos[0], opts[0].value, opts[1].value, &at)))
        return st;
    int json = opts[2].value != NULL;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    tl_error err = {0};
    int64_t oldest = 0, latest = 0;
    tl_snapshot *s = NULL;
    if (tl_table_versions(t, &oldest, &latest, &err) != TL_OK ||
        tl_snapshot_open(t, &at, &s, &err) != TL_OK) {
        tl_table_close(t);
        return lib_error(&err);
    }
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    char tb[40], ga[32], hb[32], db[16];
    fmt_ms(in.timestamp_ms, tb, sizeof tb);
    size_t np = tl_snapshot_n_partitions(s);
    if (json) {
        printf("{\"command\":\"describe\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"table_id\":\"%s\",\"name\":", in.table_id);
        if (in.name)
            json_str(stdout, in.name);
        else
            printf("null");
        printf(",\"version\":%" PRId64 ",\"latest_version\":%" PRId64
               ",\"oldest_version\":%" PRId64 ",\"timestamp_ms\":%" PRId64
               ",\"timestamp\":\"%s\",\"rows\":%" PRIu64 ",\"files\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"partitions\":%" PRIu64 ",\"schema\":[",
               in.version, latest, oldest, in.timestamp_ms, tb, in.n_rows, in.n_files, in.bytes,
               in.n_partitions);
        for (uint32_t i = 0; i < in.n_fields; i++) {
            printf("%s{\"name\":", i ? "," : "");
            json_str(stdout, in.fields[i].name);
            printf(",\"type\":\"%s\",\"nullable\":%s}", tl_type_name(in.fields[i].type),
                   in.fields[i].nullable ? "true" : "false");
        }
        printf("],\"partition_spec\":{");
        if (in.symbol_column) {
            printf("\"symbol_column\":");
            json_str(stdout, in.symbol_column);
        }
        if (in.day_column) {
            printf("%s\"day_column\":", in.symbol_column ? "," : "");
            json_str(stdout, in.day_column);
        }
        printf("},\"sort_key\":[");
        for (uint32_t i = 0; i < in.n_sort_key; i++) {
            if (i)
                putchar(',');
            json_str(stdout, in.sort_key[i]);
        }
        printf("],\"checkpoint_interval\":%" PRId64 ",\"log_retention_hours\":%" PRId64
               ",\"deleted_file_retention_hours\":%" PRId64 ",\"partition_list\":[",
               in.checkpoint_interval, in.log_retention_hours, in.deleted_file_retention_hours);
        for (size_t i = 0; i < np; i++) {
            tl_partition_info p;
            tl_snapshot_partition(s, i, &p);
            printf("%s{", i ? "," : "");
            int comma = 0;
            if (p.has_symbol) {
                printf("\"symbol\":");
                if (p.symbol_null)
                    printf("null");
                else
                    json_str(stdout, p.symbol);
                comma = 1;
            }
            if (p.has_day) {
                fmt_day(p.day, db, sizeof db);
                printf("%s\"date\":", comma ? "," : "");
                if (p.day_null)
                    printf("null");
                else
                    printf("\"%s\"", db);
                comma = 1;
            }
            printf("%s\"files\":%zu,\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64, comma ? "," : "",
                   p.n_files, p.n_rows, p.bytes);
            if (p.has_time_range)
                printf(",\"first_ts_ns\":%" PRId64 ",\"last_ts_ns\":%" PRId64, p.first_ts_ns,
                       p.last_ts_ns);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("table      %s%s%s%s\n", pos[0], in.name ? " (" : "", in.name ? in.name : "",
               in.name ? ")" : "");
        printf("id         %s\n", in.table_id);
        printf("version    %" PRId64 " of %" PRId64 " (oldest reachable %" PRId64 "), committed %s\n",
               in.version, latest, oldest, tb);
        printf("rows       %s in %" PRIu64 " files, %s, %" PRIu64 " partitions\n",
               grouped(in.n_rows, ga, sizeof ga), in.n_files,
               human_bytes((double)in.bytes, hb, sizeof hb), in.n_partitions);
        printf("partition ");
        if (!in.symbol_column && !in.day_column)
            printf(" none");
        if (in.symbol_column)
            printf(" symbol(%s)", in.symbol_column);
        if (in.day_column)
            printf(" day(%s)", in.day_column);
        printf("\nsort key  ");
        for (uint32_t i = 0; i < in.n_sort_key; i++)
            printf("%s%s", i ? ", " : " ", in.sort_key[i]);
        printf("%s\nconfig     checkpoint every %" PRId64 " commits, log retention %" PRId64
               " h, deleted file retention %" PRId64 " h\n",
               in.n_sort_key ? "" : " none", in.checkpoint_interval, in.log_retention_hours,
               in.deleted_file_retention_hours);
        printf("schema     %u columns:\n", in.n_fields);
        for (uint32_t i = 0; i < in.n_fields; i++)
            printf("  %-24s %-10s%s\n", in.fields[i].name, tl_type_name(in.fields[i].type),
                   in.fields[i].nullable ? " nullable" : "");
        if (np)
            printf("partitions:\n  %-24s %-10s %8s %14s %10s\n", "symbol", "date", "files", "rows",
                   "bytes");
        for (size_t i = 0; i < np; i++) {
            tl_partition_info p;
            tl_snapshot_partition(s, i, &p);
            fmt_day(p.day, db, sizeof db);
            printf("  %-24s %-10s %8zu %14s %10s\n",
                   !p.has_symbol ? "-" : p.symbol_null ? "(null)" : p.symbol,
                   !p.has_day ? "-" : p.day_null ? "(null)" : db, p.n_files,
                   grouped(p.n_rows, ga, sizeof ga), human_bytes((double)p.bytes, hb, sizeof hb));
        }
    }
    tl_snapshot_close(s);
    tl_table_close(t);
    return EXIT_OK;
}

/* ---- cat ------------------------------------------------------------------------- */

/* --from/--to (or --date) -> day range; EXIT_USAGE printed on error. */
int parse_day_range(const char *d, const char *from, const char *to, int *has,
                           int32_t *lo, int32_t *hi)
{
    *has = 0;
    if (d && (from || to))
        return usage_error("give --date or --from/--to, not both");
    if (!d && !from && !to)
        return 0;
    *has = 1;
    *lo = INT32_MIN;
    *hi = INT32_MAX;
    if (d && parse_date(d, lo) != 0)
        return usage_error("--date: expected YYYY-MM-DD, got '%s'", d);
    if (d)
        *hi = *lo;
    if (from && parse_date(from, lo) != 0)
        return usage_error("--from: expected YYYY-MM-DD, got '%s'", from);
    if (to && parse_date(to, hi) != 0)
        return usage_error("--to: expected YYYY-MM-DD, got '%s'", to);
    return 0;
}

static const char cat_help[] =
    "usage: ticklake cat TABLE [--version N|TAG | --timestamp T] [--symbol S]\n"
    "                   [--date D | --from D --to D] [--columns A,B,...] [--limit N]\n"
    "\n"
    "Print rows of a table version as CSV (header first): partition by partition\n"
    "(symbol, then date), each data file in its stored order (sorted by the sort\n"
    "key). Filters select partitions by symbol and by date (YYYY-MM-DD, UTC).\n";

static int cmd_cat(int argc, char **argv)
{
    opt opts[] = {{"--version", 1, NULL}, {"--timestamp", 1, NULL}, {"--symbol", 1, NULL},
                  {"--date", 1, NULL},    {"--from", 1, NULL},      {"--to", 1, NULL},
                  {"--columns", 1, NULL}, {"--limit", 1, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, cat_help);
    if (st != GO_ON)
        return st;
    tl_at at;
    if ((st = parse_at_table(pos[0], opts[0].value, opts[1].value, &at)))
        return st;
    tl_rows_filter f = {.symbol = opts[2].value};
    if (parse_day_range(opts[3].value, opts[4].value, opts[5].value, &f.has_days, &f.day_from,
                        &f.day_to))
        return EXIT_USAGE;
    uint64_t limit = UINT64_MAX;
    if (opts[7].value && parse_num_opt("--limit", opts[7].value, 0, UINT64_MAX, &limit))
        return EXIT_USAGE;
    strlist cols = {0};
    if (opts[6].value && split_list(opts[6].value, &cols)) {
        fputs("ticklake: error: out of memory\n", stderr);
        return EXIT_ERR;
    }
    tl_error err = {0};
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    tl_reader *r = NULL;
    int ret = EXIT_OK;
    if (tl_table_open(pos[0], &t, &err) != TL_OK || tl_snapshot_open(t, &at, &s, &err) != TL_OK ||
        tl_reader_open(s, &f, opts[6].value ? cols.v : NULL, cols.n, &r, &err) != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    uint64_t printed = 0;
    int header = 1;
    while (printed < limit) {
        tl_batch b;
        if (tl_reader_next(r, &b, &err) != TL_OK) {
            ret = lib_error(&err);
            goto out;
        }
        if (b.n_rows == 0)
            break;
        if ((uint64_t)b.n_rows > limit - printed)
            b.n_rows = (uint32_t)(limit - printed);
        if (tl_batch_write_csv(&b, stdout, header, &err) != TL_OK) {
            ret = lib_error(&err);
            goto out;
        }
        header = 0;
        printed += b.n_rows;
    }
    if (header) { /* no rows: still the header */
        tl_batch b = {0};
        if (tl_reader_next(r, &b, &err) == TL_OK && tl_batch_write_csv(&b, stdout, 1, &err) != TL_OK)
            ret = lib_error(&err);
    }
out:
    tl_reader_close(r);
    tl_snapshot_close(s);
    tl_table_close(t);
    strlist_free(&cols);
    return ret;
}

/* ---- vacuum ------------------------------------------------------------------------ */

static const char vacuum_help[] =
    "usage: ticklake vacuum TABLE [--dry-run] [--retain HOURS] [--force] [--json]\n"
    "\n"
    "Delete data files no version within the retention needs: files removed from\n"
    "the table longer ago than the retention, and orphans of crashed or losing\n"
    "writers older than it. Never a file the latest version uses, nor one a\n"
    "tagged version uses (listed as kept; ticklake tag). --dry-run lists the\n"
    "files and the versions that would become unreadable, deleting nothing.\n"
    "\n"
    "  --retain HOURS  retention (default: the table's deleted file retention,\n"
    "                  168 h unless configured); under 1 h needs --force\n";

static const char *reason_name(int r)
{
    return r == TL_VACUUM_REASON_TOMBSTONE ? "removed"
           : r == TL_VACUUM_REASON_ORPHAN  ? "orphan"
           : r == TL_VACUUM_REASON_TMP     ? "temporary"
                                           : "?";
}

static int cmd_vacuum(int argc, char **argv)
{
    opt opts[] = {{"--dry-run", 0, NULL}, {"--retain", 1, NULL}, {"--force", 0, NULL},
                  {"--json", 0, NULL}};
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, 4, pos, vacuum_help);
    if (st != GO_ON)
        return st;
    tl_table_vacuum_opts vo = {.retain_hours = -1, .dry_run = opts[0].value != NULL,
                               .force = opts[2].value != NULL};
    uint64_t h = 0;
    if (opts[1].value) {
        if (parse_num_opt("--retain", opts[1].value, 0, 1000000, &h))
            return EXIT_USAGE;
        vo.retain_hours = (int64_t)h;
    }
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    tl_error err = {0};
    tl_table_vacuum_report rep;
    int rc = tl_table_vacuum(t, &vo, &rep, &err);
    tl_table_close(t);
    if (rc != TL_OK)
        return lib_error(&err);
    if (opts[3].value) {
        printf("{\"command\":\"vacuum\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"dry_run\":%s,\"retain_hours\":%" PRId64 ",\"latest_version\":%" PRId64
               ",\"bytes\":%" PRId64 ",\"dirs_removed\":%zu,\"files\":[",
               rep.dry_run ? "true" : "false", rep.retain_hours, rep.latest_version, rep.bytes,
               rep.n_dirs_removed);
        for (size_t i = 0; i < rep.n_files; i++) {
            printf("%s{\"path\":", i ? "," : "");
            json_str(stdout, rep.files[i].path);
            printf(",\"bytes\":%" PRId64 ",\"reason\":\"%s\"", rep.files[i].bytes,
                   reason_name(rep.files[i].reason));
            if (rep.files[i].removed_in_version >= 0)
                printf(",\"removed_in_version\":%" PRId64, rep.files[i].removed_in_version);
            printf("}");
        }
        printf("],\"kept\":[");
        for (size_t i = 0; i < rep.n_kept; i++) {
            printf("%s{\"path\":", i ? "," : "");
            json_str(stdout, rep.kept[i].path);
            printf(",\"bytes\":%" PRId64 ",\"tag\":", rep.kept[i].bytes);
            json_str(stdout, rep.kept[i].tag);
            printf(",\"version\":%" PRId64 "}", rep.kept[i].version);
        }
        printf("],\"unreadable_versions\":[");
        for (size_t i = 0; i < rep.n_unreadable; i++)
            printf("%s[%" PRId64 ",%" PRId64 "]", i ? "," : "", rep.unreadable[i][0],
                   rep.unreadable[i][1]);
        printf("]}\n");
    } else {
        char hb[32];
        for (size_t i = 0; i < rep.n_files; i++)
            printf("  %s %s (%s)\n", rep.dry_run ? "would delete" : "deleted", rep.files[i].path,
                   reason_name(rep.files[i].reason));
        for (size_t i = 0; i < rep.n_kept; i++)
            printf("  kept %s (tag '%s', version %" PRId64 ")\n", rep.kept[i].path, rep.kept[i].tag,
                   rep.kept[i].version);
        printf("vacuum%s: %zu files, %s, retention %" PRId64 " h (table at version %" PRId64 ")\n",
               rep.dry_run ? " --dry-run" : "", rep.n_files,
               human_bytes((double)rep.bytes, hb, sizeof hb), rep.retain_hours, rep.latest_version);
        for (size_t i = 0; i < rep.n_unreadable; i++) {
            if (rep.unreadable[i][0] == rep.unreadable[i][1])
                printf("  version %" PRId64, rep.unreadable[i][0]);
            else
                printf("  versions %" PRId64 "-%" PRId64, rep.unreadable[i][0],
                       rep.unreadable[i][1]);
            printf(" %s unreadable\n", rep.dry_run ? "would become" : "became");
        }
    }
    tl_table_vacuum_report_free(&rep);
    return EXIT_OK;
}

/* ---- checkpoint ---------------------------------------------------------------------- */

static const char checkpoint_help[] =
    "usage: ticklake checkpoint TABLE [--json]\n"
    "\n"
    "Write a checkpoint of the latest version (snapshots then load from it\n"
    "instead of replaying every commit), then delete commit files older than the\n"
    "table's log retention that a checkpoint covers. Tagged versions stay\n"
    "readable: a checkpoint at the oldest tagged version is kept (written if\n"
    "missing) and nothing past it is cleaned (ticklake tag).\n";

static int cmd_checkpoint(int argc, char **argv)
{
    opt opts[] = {{"--json", 0, NULL}};
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, 1, pos, checkpoint_help);
    if (st != GO_ON)
        return st;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    tl_error err = {0};
    tl_checkpoint_result r;
    int rc = tl_table_checkpoint(t, &r, &err);
    tl_table_close(t);
    if (rc != TL_OK)
        return lib_error(&err);
    if (opts[0].value) {
        printf("{\"command\":\"checkpoint\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"version\":%" PRId64 ",\"existed\":%s,\"bytes\":%" PRIu64 ",\"adds\":%" PRIu64
               ",\"removes\":%" PRIu64 ",\"txns\":%" PRIu64 ",\"commits_deleted\":%" PRId64
               ",\"checkpoints_deleted\":%" PRId64 ",\"oldest_version\":%" PRId64 "}\n",
               r.version, r.existed ? "true" : "false", r.bytes, r.n_add, r.n_remove, r.n_txn,
               r.commits_deleted, r.checkpoints_deleted, r.oldest_version);
    } else {
        char hb[32];
        printf("checkpoint: version %" PRId64 "%s: %" PRIu64 " files, %" PRIu64 " tombstones, %"
               PRIu64 " app ids (%s); log cleanup deleted %" PRId64 " commits; oldest reachable "
               "version %" PRId64 "\n",
               r.version, r.existed ? " (already there)" : "", r.n_add, r.n_remove, r.n_txn,
               human_bytes((double)r.bytes, hb, sizeof hb), r.commits_deleted, r.oldest_version);
    }
    return EXIT_OK;
}

/* ---- main ------------------------------------------------------------------------ */

/* ---- scan and backtest: shared options ------------------------------------------ */

/* Exact decimal for a double: the shortest %.{15,16,17}g that reads back the
 * same bits (finite values); "nan", "inf", "-inf" otherwise. */
const char *exact_num(double v, char *buf, size_t cap)
{
    if (v != v)
        return snprintf(buf, cap, "nan"), buf;
    if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
        return snprintf(buf, cap, v > 0 ? "inf" : "-inf"), buf;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

/* A double for JSON: exact when finite, else a string ("nan", "inf"). */
void json_exact(FILE *f, double v)
{
    char b[40];
    exact_num(v, b, sizeof b);
    if (v != v || b[0] == 'i' || b[1] == 'i')
        fprintf(f, "\"%s\"", b);
    else
        fputs(b, f);
}

void bar_end(bar *b)
{
    if (b->active) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* --threads, --io, --direct, --no-verify. */
int parse_io_opts(const char *threads, const char *io, uint32_t *n_threads, int *mode)
{
    uint64_t v = 0;
    if (threads && parse_num_opt("--threads", threads, 1, 1024, &v))
        return EXIT_USAGE;
    *n_threads = (uint32_t)v;
    *mode = TL_IO_AUTO;
    if (io) {
        tl_error err = {0};
        if (tl_io_mode_parse(io, mode, &err) != TL_OK)
            return usage_error("--io: expected auto, mmap, uring or pread, got '%s'", io);
    }
    return 0;
}

static void print_scan_stats(FILE *f, const tl_scan_stats *st, int json)
{
    char ga[32], gb[32], hb[32];
    if (json) {
        fprintf(f,
                "{\"partitions\":{\"total\":%" PRIu64 ",\"kept\":%" PRIu64 "},"
                "\"files\":{\"total\":%" PRIu64 ",\"kept\":%" PRIu64 "},"
                "\"blocks\":{\"total\":%" PRIu64 ",\"kept\":%" PRIu64 "},"
                "\"rows_total\":%" PRIu64 ",\"rows_scanned\":%" PRIu64
                ",\"rows_selected\":%" PRIu64 ",\"bytes_read\":%" PRIu64
                ",\"io_requests\":%" PRIu64 ",\"units\":%zu,\"threads\":%u,\"io\":",
                st->partitions_total, st->partitions_kept, st->files_total, st->files_kept,
                st->blocks_total, st->blocks_kept, st->rows_total, st->rows_scanned,
                st->rows_selected, st->bytes_read, st->io_requests, st->n_units, st->threads);
        json_str(f, tl_io_mode_name(st->io_used));
        fprintf(f, ",\"io_fallback\":%s,\"io_note\":", st->io_fallback ? "true" : "false");
        json_str(f, st->io_note);
        fprintf(f, ",\"plan\":");
        json_str(f, st->plan);
        fprintf(f, ",\"elapsed_s\":");
        json_num(f, st->elapsed_s);
        fputs("}", f);
        return;
    }
    fprintf(f, "plan:       %s\n", st->plan[0] ? st->plan : "(every row)");
    fprintf(f, "partitions: %" PRIu64 " of %" PRIu64 " kept, %" PRIu64 " skipped\n",
            st->partitions_kept, st->partitions_total, st->partitions_total - st->partitions_kept);
    fprintf(f, "files:      %" PRIu64 " of %" PRIu64 " kept, %" PRIu64 " skipped\n", st->files_kept,
            st->files_total, st->files_total - st->files_kept);
    fprintf(f, "blocks:     %" PRIu64 " of %" PRIu64 " kept, %" PRIu64 " skipped\n",
            st->blocks_kept, st->blocks_total, st->blocks_total - st->blocks_kept);
    fprintf(f, "rows:       %s of %s to scan", grouped(st->rows_scanned, ga, sizeof ga),
            grouped(st->rows_total, gb, sizeof gb));
    if (st->rows_selected)
        fprintf(f, ", %s selected", grouped(st->rows_selected, ga, sizeof ga));
    fprintf(f, "\nbytes:      %s of blocks (%" PRIu64 " read requests)\n",
            human_bytes((double)st->bytes_read, hb, sizeof hb), st->io_requests);
    fprintf(f, "io:         %s, %u thread%s, %zu unit%s\n", tl_io_mode_name(st->io_used),
            st->threads, st->threads == 1 ? "" : "s", st->n_units, st->n_units == 1 ? "" : "s");
    if (st->io_fallback)
        fprintf(f, "note:       %s\n", st->io_note);
}

/* ---- scan ------------------------------------------------------------------------ */

static const char scan_help[] =
    "usage: ticklake scan TABLE [--version N|TAG | --timestamp T] [--columns A,B,...]\n"
    "                    [--where EXPR] [--symbols A,B,...] [--date D | --from D --to D]\n"
    "                    [--format csv|json] [--limit N] [--ordered]\n"
    "                    [--count | --agg LIST [--group-by symbol,day] | --explain]\n"
    "                    [--threads N] [--io auto|mmap|uring|pread] [--direct]\n"
    "                    [--no-verify] [--stats] [--json]\n"
    "\n"
    "Scan a table version: prune partitions, files and blocks that cannot match,\n"
    "read the rest in parallel and print the matching rows (CSV with a header, or\n"
    "JSON lines), in file order (--ordered: each partition in sort-key order).\n"
    "\n"
    "  --where EXPR     conjunction of comparisons on any column, e.g.\n"
    "                   \"strike > 50000 and opt_type = 'CE'\"; operators = != < <= > >=,\n"
    "                   IN (...), BETWEEN a AND b, IS [NOT] NULL (spec/SCAN.md)\n"
    "  --count          print the number of matching rows\n"
    "  --agg LIST       aggregates: count, sum(C), min(C), max(C), avg(C)\n"
    "  --group-by K     group aggregates by symbol, day or both\n"
    "  --explain        show what pruning keeps and skips; read no blocks\n"
    "  --stats          after the scan, print the same counts to stderr\n"
    "  --io MODE        block reads: mmap (zero copy), uring (io_uring), pread;\n"
    "                   auto = the measured default\n"
    "  --direct         O_DIRECT reads (uring, pread): bypass the page cache\n"
    "  --no-verify      skip block checksums (default: verify every block read)\n"
    "  --json           --count, --agg and --explain output as JSON\n";

typedef struct scan_cli {
    tl_table *t;
    tl_snapshot *s;
    strlist cols, syms;
    tl_scan_opts so;
    bar pb;
} scan_cli;

static void agg_value_print(const tl_agg_value *v, int json)
{
    char b[48];
    if (v->is_null) {
        fputs(json ? "null" : "", stdout);
        return;
    }
    switch (v->type) {
    case TL_STRING:
        if (json)
            json_str(stdout, v->s);
        else
            fputs(v->s ? v->s : "", stdout);
        break;
    case TL_FLOAT32:
    case TL_FLOAT64:
        if (json)
            json_exact(stdout, v->f);
        else
            fputs(exact_num(v->f, b, sizeof b), stdout);
        break;
    case TL_UINT8:
    case TL_UINT16:
    case TL_UINT32:
    case TL_UINT64:
        printf("%" PRIu64, v->u);
        break;
    case TL_BOOL:
        fputs(v->u ? "true" : "false", stdout);
        break;
    case TL_DATE:
        fmt_day((int32_t)v->i, b, sizeof b);
        if (json)
            printf("\"%s\"", b);
        else
            fputs(b, stdout);
        break;
    case TL_TIMESTAMP_US:
        tl_timestamp_us_text(v->i, b); /* b: 48 >= TL_TIMESTAMP_US_TEXT_MAX */
        if (json)
            printf("\"%s\"", b);
        else
            fputs(b, stdout);
        break;
    default:
        printf("%" PRId64, v->i);
        break;
    }
}

static int print_aggs(const tl_agg_result *r, const tl_agg_spec *sp, uint32_t n, int group,
                      int json)
{
    char day[16];
    if (!json) {
        int first = 1;
        if (group & TL_GROUP_SYMBOL)
            fputs("symbol", stdout), first = 0;
        if (group & TL_GROUP_DAY)
            printf("%sday", first ? "" : ","), first = 0;
        for (uint32_t k = 0; k < n; k++) {
            static const char *fn[] = {"count", "sum", "min", "max", "avg"};
            printf("%s%s(%s)", first ? "" : ",", fn[sp[k].fn], sp[k].column ? sp[k].column : "*");
            first = 0;
        }
        putchar('\n');
    } else {
        putchar('[');
    }
    for (size_t i = 0; i < r->n_rows; i++) {
        const tl_agg_row *row = &r->rows[i];
        if (row->has_day && !row->day_null)
            fmt_day(row->day, day, sizeof day);
        if (json) {
            printf("%s{", i ? "," : "");
            int first = 1;
            if (group & TL_GROUP_SYMBOL) {
                fputs("\"symbol\":", stdout);
                if (row->symbol_null)
                    fputs("null", stdout);
                else
                    json_str(stdout, row->symbol);
                first = 0;
            }
            if (group & TL_GROUP_DAY) {
                printf("%s\"day\":", first ? "" : ",");
                if (row->day_null)
                    fputs("null", stdout);
                else
                    printf("\"%s\"", day);
                first = 0;
            }
            for (uint32_t k = 0; k < n; k++) {
                static const char *fn[] = {"count", "sum", "min", "max", "avg"};
                printf("%s\"%s(%s)\":", first ? "" : ",", fn[sp[k].fn],
                       sp[k].column ? sp[k].column : "*");
                agg_value_print(&row->values[k], 1);
                first = 0;
            }
            putchar('}');
        } else {
            int first = 1;
            if (group & TL_GROUP_SYMBOL)
                fputs(row->symbol_null ? "" : row->symbol, stdout), first = 0;
            if (group & TL_GROUP_DAY)
                printf("%s%s", first ? "" : ",", row->day_null ? "" : day), first = 0;
            for (uint32_t k = 0; k < n; k++) {
                if (!first)
                    putchar(',');
                agg_value_print(&row->values[k], 0);
                first = 0;
            }
            putchar('\n');
        }
    }
    if (json)
        puts("]");
    return EXIT_OK;
}

static int cmd_scan(int argc, char **argv)
{
    opt opts[] = {{"--version", 1, NULL}, {"--timestamp", 1, NULL}, {"--columns", 1, NULL},
                  {"--where", 1, NULL},   {"--symbols", 1, NULL},   {"--date", 1, NULL},
                  {"--from", 1, NULL},    {"--to", 1, NULL},        {"--format", 1, NULL},
                  {"--limit", 1, NULL},   {"--ordered", 0, NULL},   {"--count", 0, NULL},
                  {"--agg", 1, NULL},     {"--group-by", 1, NULL},  {"--explain", 0, NULL},
                  {"--threads", 1, NULL}, {"--io", 1, NULL},        {"--direct", 0, NULL},
                  {"--no-verify", 0, NULL}, {"--stats", 0, NULL},   {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, scan_help);
    if (st != GO_ON)
        return st;
#define SV(name) opt_val(opts, no, name)
    tl_at at;
    if ((st = parse_at_table(pos[0], SV("--version"), SV("--timestamp"), &at)))
        return st;
    scan_cli c = {0};
    tl_scan_opts *so = &c.so;
    if (parse_day_range(SV("--date"), SV("--from"), SV("--to"), &so->has_days, &so->day_from,
                        &so->day_to))
        return EXIT_USAGE;
    if (parse_io_opts(SV("--threads"), SV("--io"), &so->threads, &so->io))
        return EXIT_USAGE;
    int format = TL_SCAN_CSV;
    const char *fmt = SV("--format");
    if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0)
        return usage_error("--format: expected csv or json, got '%s'", fmt);
    if (fmt && strcmp(fmt, "json") == 0)
        format = TL_SCAN_JSON;
    uint64_t limit = 0;
    if (SV("--limit") && parse_num_opt("--limit", SV("--limit"), 0, UINT64_MAX, &limit))
        return EXIT_USAGE;
    int modes = !!SV("--count") + !!SV("--agg") + !!SV("--explain");
    if (modes > 1)
        return usage_error("give at most one of --count, --agg and --explain");
    if (SV("--group-by") && !SV("--agg"))
        return usage_error("--group-by needs --agg");
    int group = 0;
    if (SV("--group-by")) {
        strlist g;
        if (split_list(SV("--group-by"), &g))
            return fputs("ticklake: error: out of memory\n", stderr), EXIT_ERR;
        for (uint32_t i = 0; i < g.n; i++) {
            if (strcmp(g.v[i], "symbol") == 0)
                group |= TL_GROUP_SYMBOL;
            else if (strcmp(g.v[i], "day") == 0 || strcmp(g.v[i], "date") == 0)
                group |= TL_GROUP_DAY;
            else {
                int r = usage_error("--group-by: expected symbol, day or both, got '%s'", g.v[i]);
                strlist_free(&g);
                return r;
            }
        }
        strlist_free(&g);
    }
    int json = SV("--json") != NULL;
    so->where = SV("--where");
    so->ordered = SV("--ordered") != NULL;
    so->direct = SV("--direct") != NULL;
    so->no_verify = SV("--no-verify") != NULL;
    if ((SV("--columns") && split_list(SV("--columns"), &c.cols)) ||
        (SV("--symbols") && split_list(SV("--symbols"), &c.syms))) {
        strlist_free(&c.cols);
        strlist_free(&c.syms);
        fputs("ticklake: error: out of memory\n", stderr);
        return EXIT_ERR;
    }
    if (SV("--columns")) {
        so->columns = c.cols.v;
        so->n_columns = c.cols.n;
    }
    if (SV("--symbols")) {
        so->symbols = c.syms.v;
        so->n_symbols = c.syms.n;
    }
    c.pb.active = isatty(STDERR_FILENO) && !SV("--explain");
    so->progress = progress_cb;
    so->progress_ctx = &c.pb;

    tl_error err = {0};
    int ret = EXIT_OK;
    tl_scan_stats stats;
    memset(&stats, 0, sizeof stats);
    tl_agg_spec *specs = NULL;
    uint32_t n_specs = 0;
    tl_agg_result ar;
    memset(&ar, 0, sizeof ar);
    if (tl_table_open(pos[0], &c.t, &err) != TL_OK || tl_snapshot_open(c.t, &at, &c.s, &err) != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    if (SV("--explain")) {
        if (tl_scan_explain(c.s, so, &stats, &err) != TL_OK) {
            ret = lib_error(&err);
            goto out;
        }
        tl_snapshot_info si;
        tl_snapshot_get_info(c.s, &si);
        if (json) {
            printf("{\"table\":");
            json_str(stdout, tl_table_path(c.t));
            printf(",\"version\":%" PRId64 ",\"explain\":", si.version);
            print_scan_stats(stdout, &stats, 1);
            puts("}");
        } else {
            printf("table:      %s, version %" PRId64 "\n", tl_table_path(c.t), si.version);
            print_scan_stats(stdout, &stats, 0);
        }
        goto out;
    }
    if (SV("--count") || SV("--agg")) {
        const char *text = SV("--agg") ? SV("--agg") : "count";
        if (tl_agg_parse(text, &specs, &n_specs, &err) != TL_OK) {
            fprintf(stderr, "ticklake: error: --agg: %s\n", err.msg);
            ret = EXIT_USAGE;
            goto out;
        }
        int rc = tl_scan_aggregate(c.s, so, specs, n_specs, group, &ar, &err);
        bar_end(&c.pb);
        if (rc != TL_OK) {
            ret = lib_error(&err);
            goto out;
        }
        stats = ar.scan;
        if (SV("--count")) {
            int64_t cnt = ar.n_rows && !ar.rows[0].values[0].is_null ? ar.rows[0].values[0].i : 0;
            if (json)
                printf("{\"count\":%" PRId64 "}\n", cnt);
            else
                printf("%" PRId64 "\n", cnt);
        } else {
            print_aggs(&ar, specs, n_specs, group, json);
        }
    } else {
        fflush(stdout);
        int rc = tl_scan_print(c.s, so, format, limit, STDOUT_FILENO, &stats, &err);
        bar_end(&c.pb);
        if (rc != TL_OK) {
            ret = lib_error(&err);
            goto out;
        }
    }
    if (stats.io_fallback)
        fprintf(stderr, "ticklake: note: %s\n", stats.io_note);
    if (SV("--stats")) {
        print_scan_stats(stderr, &stats, 0);
        fprintf(stderr, "elapsed:    %.3f s\n", stats.elapsed_s);
    }
out:
    tl_agg_result_free(&ar);
    if (specs)
        tl_agg_specs_free(specs, n_specs);
    tl_snapshot_close(c.s);
    tl_table_close(c.t);
    strlist_free(&c.cols);
    strlist_free(&c.syms);
    return ret;
#undef SV
}

/* ---- backtest ---------------------------------------------------------------------- */

static const char backtest_help[] =
    "usage: ticklake backtest TABLE [--version N|TAG | --timestamp T] [--symbols A,B,...]\n"
    "                        [--from DATE --to DATE | --date DATE]\n"
    "                        [--fast F[,F...]] [--slow S[,S...]] [--max-spread X]\n"
    "                        [--min-volume V] [--price C] [--bid C] [--ask C]\n"
    "                        [--volume C] [--threads N] [--io auto|mmap|uring|pread]\n"
    "                        [--direct] [--no-verify] [--trades FILE]\n"
    "                        [--contracts FILE] [--json]\n"
    "\n"
    "Run the EMA-crossover backtest (spec/BACKTEST.md) on every contract\n"
    "(symbol, expiry, opt_type, strike) of each partition, rows in timestamp order.\n"
    "Several --fast and --slow spans evaluate every pair in one pass.\n"
    "\n"
    "  --fast F         fast EMA span(s) (default 5)\n"
    "  --slow S         slow EMA span(s) (default 21)\n"
    "  --max-spread X   largest (ask - bid) / mid to enter (default 0.0005)\n"
    "  --min-volume V   smallest volume to enter (default 1)\n"
    "  --price/--bid/--ask/--volume C   column names (price, bp0, sp0, volume)\n"
    "  --trades FILE    write the trade log as CSV\n"
    "  --contracts FILE write per-contract results as CSV\n"
    "  --json           the result as one JSON object\n"
    "The result names the table version: rerun with --version N to reproduce it.\n";

/* "5,8,13" -> spans (each > 0, finite). */
static int parse_spans(const char *name, const char *s, double *out, uint32_t *n)
{
    strlist l;
    if (split_list(s, &l))
        return fputs("ticklake: error: out of memory\n", stderr), EXIT_ERR;
    *n = 0;
    int ret = 0;
    for (uint32_t i = 0; i < l.n; i++) {
        char *end;
        double v = strtod(l.v[i], &end);
        if (!l.v[i][0] || *end || !(v >= 1) || v > 1e9) {
            ret = usage_error("%s: expected spans >= 1 separated by commas, got '%s'", name, s);
            break;
        }
        if (*n >= TL_BT_MAX_SPANS) {
            ret = usage_error("%s: at most %d spans", name, TL_BT_MAX_SPANS);
            break;
        }
        out[(*n)++] = v;
    }
    strlist_free(&l);
    return ret;
}

int parse_double_opt(const char *name, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || v != v || v < 0)
        return usage_error("%s: expected a number >= 0, got '%s'", name, s);
    *out = v;
    return 0;
}

static int cmd_backtest(int argc, char **argv)
{
    opt opts[] = {{"--version", 1, NULL},   {"--timestamp", 1, NULL}, {"--symbols", 1, NULL},
                  {"--date", 1, NULL},      {"--from", 1, NULL},      {"--to", 1, NULL},
                  {"--fast", 1, NULL},      {"--slow", 1, NULL},      {"--max-spread", 1, NULL},
                  {"--min-volume", 1, NULL}, {"--price", 1, NULL},    {"--bid", 1, NULL},
                  {"--ask", 1, NULL},       {"--volume", 1, NULL},    {"--threads", 1, NULL},
                  {"--io", 1, NULL},        {"--direct", 0, NULL},    {"--no-verify", 0, NULL},
                  {"--trades", 1, NULL},    {"--contracts", 1, NULL}, {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, backtest_help);
    if (st != GO_ON)
        return st;
#define BV(name) opt_val(opts, no, name)
    tl_at at;
    if ((st = parse_at_table(pos[0], BV("--version"), BV("--timestamp"), &at)))
        return st;
    tl_backtest_opts bo;
    tl_backtest_opts_default(&bo);
    double fast[TL_BT_MAX_SPANS], slow[TL_BT_MAX_SPANS];
    if (BV("--fast")) {
        if ((st = parse_spans("--fast", BV("--fast"), fast, &bo.n_fast)))
            return st;
        bo.fast = fast;
    }
    if (BV("--slow")) {
        if ((st = parse_spans("--slow", BV("--slow"), slow, &bo.n_slow)))
            return st;
        bo.slow = slow;
    }
    if (BV("--max-spread") && parse_double_opt("--max-spread", BV("--max-spread"), &bo.max_spread))
        return EXIT_USAGE;
    if (BV("--min-volume") && parse_double_opt("--min-volume", BV("--min-volume"), &bo.min_volume))
        return EXIT_USAGE;
    if (parse_day_range(BV("--date"), BV("--from"), BV("--to"), &bo.has_days, &bo.day_from,
                        &bo.day_to))
        return EXIT_USAGE;
    if (parse_io_opts(BV("--threads"), BV("--io"), &bo.threads, &bo.io))
        return EXIT_USAGE;
    bo.price_col = BV("--price");
    bo.bid_col = BV("--bid");
    bo.ask_col = BV("--ask");
    bo.volume_col = BV("--volume");
    bo.direct = BV("--direct") != NULL;
    bo.no_verify = BV("--no-verify") != NULL;
    bo.trades_path = BV("--trades");
    bo.contracts_path = BV("--contracts");
    int json = BV("--json") != NULL;
    strlist syms = {0};
    if (BV("--symbols")) {
        if (split_list(BV("--symbols"), &syms))
            return fputs("ticklake: error: out of memory\n", stderr), EXIT_ERR;
        bo.symbols = syms.v;
        bo.n_symbols = syms.n;
    }
    bar pb = {.active = isatty(STDERR_FILENO) && !json};
    bo.progress = progress_cb;
    bo.progress_ctx = &pb;

    tl_error err = {0};
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    tl_backtest_result r;
    memset(&r, 0, sizeof r);
    int ret = EXIT_OK;
    if (tl_table_open(pos[0], &t, &err) != TL_OK || tl_snapshot_open(t, &at, &s, &err) != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    int rc = tl_backtest_run(s, &bo, &r, &err);
    bar_end(&pb);
    if (rc != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    if (r.scan.io_fallback)
        fprintf(stderr, "ticklake: note: %s\n", r.scan.io_note);
    char tb[40], nb[40], ga[32], gb[32], hb[32];
    fmt_ms(r.timestamp_ms, tb, sizeof tb);
    double bpr = r.rows ? (double)r.bytes_read / (double)r.rows : 0;
    if (json) {
        printf("{\"table\":");
        json_str(stdout, r.table);
        printf(",\"version\":%" PRId64 ",\"timestamp\":\"%s\",\"parameters\":{\"fast\":[", r.version,
               tb);
        for (uint32_t i = 0; i < r.n_pairs; i++)
            if (i == 0 || r.pairs[i].fast != r.pairs[i - 1].fast)
                printf("%s%s", i ? "," : "", exact_num(r.pairs[i].fast, nb, sizeof nb));
        printf("],\"slow\":[");
        for (uint32_t i = 0, k = 0; i < r.n_pairs && r.pairs[i].fast == r.pairs[0].fast; i++, k++)
            printf("%s%s", k ? "," : "", exact_num(r.pairs[i].slow, nb, sizeof nb));
        printf("],\"max_spread\":");
        json_exact(stdout, r.max_spread);
        printf(",\"min_volume\":");
        json_exact(stdout, r.min_volume);
        printf(",\"price\":");
        json_str(stdout, bo.price_col ? bo.price_col : "price");
        printf(",\"bid\":");
        json_str(stdout, bo.bid_col ? bo.bid_col : "bp0");
        printf(",\"ask\":");
        json_str(stdout, bo.ask_col ? bo.ask_col : "sp0");
        printf(",\"volume\":");
        json_str(stdout, bo.volume_col ? bo.volume_col : "volume");
        printf("},\"rows\":%" PRIu64 ",\"rows_null_price\":%" PRIu64 ",\"partitions\":%" PRIu64
               ",\"contracts\":%" PRIu64,
               r.rows, r.rows_null_price, r.partitions, r.contracts);
        uint64_t trades = 0;
        for (uint32_t i = 0; i < r.n_pairs; i++)
            trades += r.pairs[i].trades;
        /* trades/pnl: of the first (or only) pair; every pair in "pairs". */
        printf(",\"trades\":%" PRIu64 ",\"pnl\":", r.n_pairs ? r.pairs[0].trades : 0);
        json_exact(stdout, r.n_pairs ? r.pairs[0].pnl : 0.0);
        printf(",\"pairs\":[");
        for (uint32_t i = 0; i < r.n_pairs; i++) {
            printf("%s{\"fast\":%s", i ? "," : "", exact_num(r.pairs[i].fast, nb, sizeof nb));
            printf(",\"slow\":%s,\"trades\":%" PRIu64 ",\"pnl\":",
                   exact_num(r.pairs[i].slow, nb, sizeof nb), r.pairs[i].trades);
            json_exact(stdout, r.pairs[i].pnl);
            putchar('}');
        }
        printf("],\"elapsed_s\":");
        json_num(stdout, r.elapsed_s);
        printf(",\"rows_per_s\":");
        json_num(stdout, r.rows_per_s);
        printf(",\"bytes_read\":%" PRIu64 ",\"bytes_per_row\":", r.bytes_read);
        json_num(stdout, bpr);
        printf(",\"threads\":%u,\"io\":", r.scan.threads);
        json_str(stdout, tl_io_mode_name(r.scan.io_used));
        printf("}\n");
        (void)trades;
    } else {
        printf("backtest %s at version %" PRId64 " (%s)\n", r.table, r.version, tb);
        printf("rows %s (%s with null price skipped), %" PRIu64 " partition%s, %s contracts\n",
               grouped(r.rows, ga, sizeof ga), grouped(r.rows_null_price, gb, sizeof gb),
               r.partitions, r.partitions == 1 ? "" : "s", grouped(r.contracts, hb, sizeof hb));
        printf("max spread %s, min volume %s\n", exact_num(r.max_spread, nb, sizeof nb),
               exact_num(r.min_volume, tb, sizeof tb));
        printf("%8s %8s %12s  %s\n", "fast", "slow", "trades", "pnl");
        for (uint32_t i = 0; i < r.n_pairs; i++) {
            char fb[40], sb[40];
            printf("%8s %8s %12s  %s\n", exact_num(r.pairs[i].fast, fb, sizeof fb),
                   exact_num(r.pairs[i].slow, sb, sizeof sb),
                   grouped(r.pairs[i].trades, ga, sizeof ga), exact_num(r.pairs[i].pnl, nb, sizeof nb));
        }
        printf("%.3f s, %.1f M rows/s, read %s (%.2f B/row), io %s, %u thread%s\n", r.elapsed_s,
               r.rows_per_s / 1e6, human_bytes((double)r.bytes_read, hb, sizeof hb), bpr,
               tl_io_mode_name(r.scan.io_used), r.scan.threads, r.scan.threads == 1 ? "" : "s");
        if (bo.trades_path)
            printf("trades written to %s\n", bo.trades_path);
        if (bo.contracts_path)
            printf("per-contract results written to %s\n", bo.contracts_path);
    }
out:
    tl_backtest_result_free(&r);
    tl_snapshot_close(s);
    tl_table_close(t);
    strlist_free(&syms);
    return ret;
#undef BV
}

/* ---- export / import (Parquet) ------------------------------------------------------- */

static const char export_help[] =
    "usage: ticklake export TABLE --to PATH [--version N|TAG | --timestamp T]\n"
    "                      [--where EXPR] [--columns A,B,...] [--symbols A,B,...]\n"
    "                      [--date D | --from D --to-date D]\n"
    "                      [--compression zstd|snappy|none] [--row-group-rows N]\n"
    "                      [--single-file | --partitioned] [--spark-compatible]\n"
    "                      [--delta] [--threads N] [--json]\n"
    "\n"
    "Write a table version as Parquet: Hive-style partition directories\n"
    "PATH/symbol=S/date=YYYY-MM-DD/part-00000.parquet (the default for a\n"
    "partitioned table), or one file (--single-file). Rows keep the table's sort\n"
    "order; files carry statistics, the page index and sorting_columns. PATH must\n"
    "not exist; on error nothing is left there.\n"
    "\n"
    "  --to PATH            output directory (or file, with --single-file)\n"
    "  --where EXPR         export only matching rows (scan's predicate language)\n"
    "  --from D, --to-date D  first and last UTC day (inclusive); --date D one day\n"
    "  --compression C      page codec (default zstd)\n"
    "  --row-group-rows N   rows per row group (default 1048576)\n"
    "  --spark-compatible   TIMESTAMP(MICROS) instead of NANOS (Spark rejects NANOS)\n"
    "  --delta              also write _delta_log/ so Spark, delta-rs and Databricks\n"
    "                       open PATH as a Delta Lake table (implies\n"
    "                       --spark-compatible)\n"
    "  --threads N          partitions written in parallel (default: CPUs)\n"
    "  --json               print the result as one JSON object\n";

static int cmd_export(int argc, char **argv)
{
    opt opts[] = {{"--to", 1, NULL},          {"--version", 1, NULL},
                  {"--timestamp", 1, NULL},   {"--where", 1, NULL},
                  {"--columns", 1, NULL},     {"--symbols", 1, NULL},
                  {"--date", 1, NULL},        {"--from", 1, NULL},
                  {"--to-date", 1, NULL},     {"--compression", 1, NULL},
                  {"--row-group-rows", 1, NULL}, {"--single-file", 0, NULL},
                  {"--partitioned", 0, NULL}, {"--spark-compatible", 0, NULL},
                  {"--delta", 0, NULL},       {"--threads", 1, NULL},
                  {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, export_help);
    if (st != GO_ON)
        return st;
#define EV(name) opt_val(opts, no, name)
    if (!EV("--to") || !*EV("--to"))
        return usage_error("missing --to PATH");
    tl_at at;
    if ((st = parse_at_table(pos[0], EV("--version"), EV("--timestamp"), &at)))
        return st;
    tl_export_opts eo = {0};
    if (parse_day_range(EV("--date"), EV("--from"), EV("--to-date"), &eo.has_days, &eo.day_from,
                        &eo.day_to))
        return EXIT_USAGE;
    if (EV("--single-file") && EV("--partitioned"))
        return usage_error("give at most one of --single-file and --partitioned");
    eo.layout = EV("--single-file")   ? TL_EXPORT_SINGLE
                : EV("--partitioned") ? TL_EXPORT_PARTITIONED
                                      : TL_EXPORT_AUTO;
    const char *comp = EV("--compression");
    if (comp && strcmp(comp, "zstd") != 0 && strcmp(comp, "snappy") != 0 &&
        strcmp(comp, "none") != 0 && strcmp(comp, "uncompressed") != 0)
        return usage_error("--compression: expected zstd, snappy or none, got '%s'", comp);
    eo.compression = comp;
    uint64_t v = 0;
    if (EV("--row-group-rows")) {
        if (parse_num_opt("--row-group-rows", EV("--row-group-rows"), 1, UINT64_C(1) << 31, &v))
            return EXIT_USAGE;
        eo.row_group_rows = v;
    }
    if (EV("--threads")) {
        if (parse_num_opt("--threads", EV("--threads"), 1, 1024, &v))
            return EXIT_USAGE;
        eo.threads = (uint32_t)v;
    }
    eo.spark_compatible = EV("--spark-compatible") != NULL;
    eo.delta = EV("--delta") != NULL;
    eo.where = EV("--where");
    strlist cols = {0}, syms = {0};
    if ((EV("--columns") && split_list(EV("--columns"), &cols)) ||
        (EV("--symbols") && split_list(EV("--symbols"), &syms))) {
        strlist_free(&cols);
        strlist_free(&syms);
        fputs("ticklake: error: out of memory\n", stderr);
        return EXIT_ERR;
    }
    if (EV("--columns")) {
        eo.columns = cols.v;
        eo.n_columns = cols.n;
    }
    if (EV("--symbols")) {
        eo.symbols = syms.v;
        eo.n_symbols = syms.n;
    }
    int json = EV("--json") != NULL;
    bar b = {.active = isatty(STDERR_FILENO)};
    eo.progress = progress_cb;
    eo.progress_ctx = &b;
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    tl_export_result res = {0};
    tl_error err = {0};
    int rc = EXIT_OK;
    if ((st = open_table(pos[0], &t)) != EXIT_OK) {
        rc = st;
        goto out;
    }
    if (tl_snapshot_open(t, &at, &s, &err) != TL_OK ||
        tl_export_parquet(s, EV("--to"), &eo, &res, &err) != TL_OK) {
        if (b.active)
            fputs("\r\033[K", stderr);
        rc = lib_error(&err);
        goto out;
    }
    if (b.active)
        fputs("\r\033[K", stderr);
    if (json) {
        printf("{\"command\":\"export\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"dest\":");
        json_str(stdout, res.dest ? res.dest : EV("--to"));
        printf(",\"version\":%" PRId64 ",\"rows\":%" PRIu64 ",\"files\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"delta\":%s,\"elapsed_s\":",
               res.version, res.rows, res.files, res.bytes, eo.delta ? "true" : "false");
        json_num(stdout, res.elapsed_s);
        printf(",\"rows_per_s\":");
        json_num(stdout, res.rows_per_s);
        printf("}\n");
    } else {
        char ga[32], hb[32];
        printf("export: version %" PRId64 ": %s rows in %" PRIu64 " file%s, %s, in %.2f s "
               "(%.2f M rows/s, %.1f MB/s) -> %s%s\n",
               res.version, grouped(res.rows, ga, sizeof ga), res.files,
               res.files == 1 ? "" : "s", human_bytes((double)res.bytes, hb, sizeof hb),
               res.elapsed_s, res.rows_per_s / 1e6,
               res.elapsed_s > 0 ? (double)res.bytes / res.elapsed_s / 1e6 : 0.0,
               res.dest ? res.dest : EV("--to"), eo.delta ? " (Delta Lake table)" : "");
    }
out:
    tl_export_result_free(&res);
    tl_snapshot_close(s);
    tl_table_close(t);
    strlist_free(&cols);
    strlist_free(&syms);
    return rc;
#undef EV
}

static const char import_help[] =
    "usage: ticklake import TABLE FILE|DIR... [--create] [--symbol-column C]\n"
    "                      [--day-column C] [--sort-key A,B,...] [--map SRC=DST,...]\n"
    "                      [--app-id ID --app-version N] [--max-memory MB]\n"
    "                      [--threads N] [--json]\n"
    "\n"
    "Import Parquet files (written by DuckDB, Polars, pyarrow, Spark, ...) as one\n"
    "commit. Directories are searched for *.parquet; Hive directory names k=v\n"
    "become columns. Columns map by name and convert only when exact; rows are\n"
    "repacked into the table's partitions and sort order in bounded memory. On any\n"
    "error (naming file, row group, column, page and byte offset) nothing is\n"
    "committed.\n"
    "\n"
    "  --create           create TABLE if it does not exist, schema from the first\n"
    "                     file; partitioned by a string column 'symbol' and the day\n"
    "                     of a timestamp column 'timestamp' when present (or the\n"
    "                     columns given), sorted by --sort-key (or inferred)\n"
    "  --map SRC=DST,...  rename Parquet column SRC to table column DST; SRC= drops\n"
    "                     column SRC\n"
    "  --app-id/--app-version  idempotent import: skipped when already applied\n"
    "  --max-memory MB    rows buffered before a partition is written (default 256)\n"
    "  --threads N        segment writers at commit (default: CPUs)\n"
    "  --json             print the result as one JSON object\n";

#define IMPORT_MAX_INPUTS 4096

static int cmd_import(int argc, char **argv)
{
    opt opts[] = {{"--create", 0, NULL},     {"--symbol-column", 1, NULL},
                  {"--day-column", 1, NULL}, {"--sort-key", 1, NULL},
                  {"--map", 1, NULL},        {"--app-id", 1, NULL},
                  {"--app-version", 1, NULL}, {"--max-memory", 1, NULL},
                  {"--threads", 1, NULL},    {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char **pos = calloc(IMPORT_MAX_INPUTS + 1, sizeof *pos);
    if (!pos)
        return fputs("ticklake: error: out of memory\n", stderr), EXIT_ERR;
    int n_pos = 0;
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, IMPORT_MAX_INPUTS + 1, import_help);
    if (st != GO_ON) {
        free(pos);
        return st;
    }
#define IV(name) opt_val(opts, no, name)
    if (n_pos < 2) {
        free(pos);
        return usage_error("expected TABLE and at least one FILE or DIR");
    }
    tl_import_opts io = {0};
    strlist key = {0}, maps = {0};
    tl_import_map *mv = NULL;
    int rc = EXIT_OK;
    if (parse_app(opts, no, &io.append)) {
        rc = EXIT_USAGE;
        goto out;
    }
    if (IV("--threads")) {
        uint64_t v = 0;
        if (parse_num_opt("--threads", IV("--threads"), 1, 1024, &v)) {
            rc = EXIT_USAGE;
            goto out;
        }
        io.append.threads = (uint32_t)v;
    }
    io.create = IV("--create") != NULL;
    if (!io.create && (IV("--symbol-column") || IV("--day-column") || IV("--sort-key"))) {
        rc = usage_error("--symbol-column, --day-column and --sort-key need --create");
        goto out;
    }
    io.symbol_column = IV("--symbol-column");
    io.day_column = IV("--day-column");
    if ((IV("--sort-key") && split_list(IV("--sort-key"), &key)) ||
        (IV("--map") && split_list(IV("--map"), &maps))) {
        rc = (fputs("ticklake: error: out of memory\n", stderr), EXIT_ERR);
        goto out;
    }
    if (IV("--sort-key")) {
        io.sort_key = key.v;
        io.n_sort_key = key.n;
    }
    if (maps.n) {
        mv = calloc(maps.n, sizeof *mv);
        if (!mv) {
            rc = (fputs("ticklake: error: out of memory\n", stderr), EXIT_ERR);
            goto out;
        }
        for (uint32_t i = 0; i < maps.n; i++) {
            const char *eq = strchr(maps.v[i], '=');
            if (!eq || eq == maps.v[i]) {
                rc = usage_error("--map: expected SRC=DST (or SRC= to drop SRC), got '%s'",
                                 maps.v[i]);
                goto out;
            }
            ((char *)maps.v[i])[eq - maps.v[i]] = '\0';
            mv[i].src = maps.v[i];
            mv[i].dst = eq + 1;
        }
        io.map = mv;
        io.n_map = maps.n;
    }
    int json = IV("--json") != NULL;
    bar b = {.active = isatty(STDERR_FILENO)};
    io.append.progress = progress_cb;
    io.append.progress_ctx = &b;
    io.append.operation = "IMPORT";
    tl_import_result res = {0};
    tl_error err = {0};
    int lrc = tl_import_parquet(pos[0], (const char *const *)(pos + 1), (uint32_t)(n_pos - 1),
                                &io, &res, &err);
    if (b.active)
        fputs("\r\033[K", stderr);
    if (lrc != TL_OK) {
        rc = lib_error(&err);
        goto out;
    }
    if (json) {
        const tl_append_result *r = &res.append;
        printf("{\"command\":\"import\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"created\":%s,\"version\":%" PRId64 ",\"noop\":%s,\"inputs\":%u"
               ",\"rows\":%" PRIu64 ",\"input_bytes\":%" PRIu64 ",\"files\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"partitions\":%u,\"elapsed_s\":",
               res.created ? "true" : "false", r->version, r->noop ? "true" : "false", res.files,
               res.rows, res.bytes, r->n_files, r->bytes, r->n_partitions);
        json_num(stdout, r->elapsed_s);
        printf(",\"rows_per_s\":");
        json_num(stdout, r->elapsed_s > 0 ? (double)res.rows / r->elapsed_s : 0);
        printf("}\n");
    } else {
        char ga[32], hb[32];
        if (res.created)
            printf("import: created table %s\n", pos[0]);
        printf("import: read %u file%s, %s rows, %s\n", res.files, res.files == 1 ? "" : "s",
               grouped(res.rows, ga, sizeof ga), human_bytes((double)res.bytes, hb, sizeof hb));
        print_append_result("import", pos[0], &res.append, 0);
    }
out:
    free(mv);
    strlist_free(&key);
    strlist_free(&maps);
    free(pos);
    return rc;
#undef IV
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"gen", cmd_gen, gen_help},
    {"inspect", cmd_inspect, inspect_help},
    {"verify", cmd_verify, verify_help},
    {"dump", cmd_dump, dump_help},
    {"create", cmd_create, create_help},
    {"append", cmd_append, append_help},
    {"history", cmd_history, history_help},
    {"describe", cmd_describe, describe_help},
    {"cat", cmd_cat, cat_help},
    {"vacuum", cmd_vacuum, vacuum_help},
    {"checkpoint", cmd_checkpoint, checkpoint_help},
    {"scan", cmd_scan, scan_help},
    {"backtest", cmd_backtest, backtest_help},
    {"export", cmd_export, export_help},
    {"import", cmd_import, import_help},
    {"optimize", cmd_optimize, optimize_help},
    {"repartition", cmd_repartition, repartition_help},
    {"tag", cmd_tag, tag_help},
    {"tags", cmd_tags, tags_help},
    {"validate", cmd_validate, validate_help},
    {"resample", cmd_resample, resample_help},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        fputs(main_help, stdout);
        return EXIT_OK;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
        printf("ticklake %s (segment format %s)\n", tl_version(), tl_format_version());
        return EXIT_OK;
    }
    if (strcmp(a, "help") == 0) {
        if (argc == 2) {
            fputs(main_help, stdout);
            return EXIT_OK;
        }
        const command *c = find_command(argv[2]);
        if (!c)
            return usage_error("unknown command '%s'", argv[2]);
        if (argc > 3) {
            g_cmd = "help";
            return usage_error("unexpected argument '%s'", argv[3]);
        }
        fputs(c->help, stdout);
        return EXIT_OK;
    }
    if (a[0] == '-')
        return usage_error("unknown option '%s'", a);
    const command *c = find_command(a);
    if (!c)
        return usage_error("unknown command '%s'", a);
    g_cmd = c->name;
    int rc = c->run(argc - 2, argv + 2);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "ticklake: error: writing to stdout: %s\n", strerror(errno));
        return EXIT_ERR;
    }
    return rc;
}
