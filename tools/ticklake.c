/*
 * ticklake.c - the command-line tool. Thin: parses arguments, calls the
 * public API (ticklake.h only), prints results.
 *
 * Conventions kept by every command:
 * - exit 0 on success, 1 on an error reported by the library, 2 on a usage
 *   error (unknown command or option, missing or malformed argument);
 * - errors go to stderr as "ticklake: error: <message>";
 * - a command that reports figures takes --json and then prints exactly
 *   one JSON object on stdout (nothing else goes to stdout);
 * - progress goes to stderr, and only when stderr is a terminal.
 */
#include "ticklake.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_OK 0
#define EXIT_ERR 1
#define EXIT_USAGE 2

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
    "  verify    check every block checksum of one or more segment files\n"
    "  dump      print rows of a segment file as CSV\n"
    "  help      show help for a command (same as <command> --help)\n"
    "\n"
    "Run 'ticklake <command> --help' for a command's options.\n"
    "Exit status: 0 ok, 1 error, 2 usage error.\n";

static const char gen_help[] =
    "usage: ticklake gen --seed N --days D (--out FILE.csv | --segments DIR)\n"
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
    "\n"
    "Check the footer and every block checksum of each file. Exit 0 when all\n"
    "files are intact, else 1, naming each damaged file and block.\n"
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

static const char *g_cmd = NULL; /* for usage hints */

static int usage_error(const char *fmt, ...) TL_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
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

static int lib_error(const tl_error *err)
{
    fprintf(stderr, "ticklake: error: %s\n", err->msg[0] ? err->msg : tl_strerror(err->code));
    return EXIT_ERR;
}

/* ---- argument parsing --------------------------------------------------------- */

typedef struct opt {
    const char *name; /* "--seed" */
    int has_arg;
    const char *value; /* set when seen (has_arg), or "" for flags */
} opt;

#define GO_ON (-1) /* parse_args: arguments fine, the command runs */

/* Parse argv[0..argc) into opts and positionals. Returns GO_ON, or the
 * command's exit status when it is over: EXIT_OK after printing help (on
 * --help/-h) to stdout, EXIT_USAGE after printing a usage error. */
static int parse_args(int argc, char **argv, opt *opts, size_t n_opts, char **pos,
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

static const char *opt_val(const opt *opts, size_t n, const char *name)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(opts[k].name, name) == 0)
            return opts[k].value;
    return NULL;
}

/* Unsigned decimal integer, digits only, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
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

static int parse_num_opt(const char *name, const char *s, uint64_t lo, uint64_t hi,
                         uint64_t *out)
{
    if (parse_u64(s, out) != 0 || *out < lo || *out > hi)
        return usage_error("%s: expected an integer from %" PRIu64 " to %" PRIu64 ", got '%s'",
                           name, lo, hi, s);
    return 0;
}

/* YYYY-MM-DD -> days since 1970-01-01; -1 if malformed or not a real date. */
static int parse_date(const char *s, int32_t *days)
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
static void json_str(FILE *f, const char *s)
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
static void json_num(FILE *f, double v)
{
    if (v != v || v > 1e300 || v < -1e300)
        v = 0;
    fprintf(f, "%.6g", v);
}

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t v, char *buf, size_t cap)
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

static const char *human_bytes(double b, char *buf, size_t cap)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4)
        b /= 1000, i++;
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", b, u[i]);
    return buf;
}

/* Display width of a UTF-8 string (code points). */
static size_t disp_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void print_padded(const char *s, size_t width, int right)
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

typedef struct bar {
    int active;
} bar;

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    bar *b = ctx;
    if (!b->active)
        return;
    int width = 30;
    int fill = total ? (int)((double)done / (double)total * width) : width;
    char line[128], ga[32], gb[32];
    int o = snprintf(line, sizeof line, "\rgen [");
    for (int i = 0; i < width; i++)
        line[o++] = i < fill ? '#' : '.';
    snprintf(line + o, sizeof line - (size_t)o, "] %3d%%  %s / %s rows",
             total ? (int)(100.0 * (double)done / (double)total) : 100,
             grouped(done, ga, sizeof ga), grouped(total, gb, sizeof gb));
    fputs(line, stderr);
    fflush(stderr);
}

static int cmd_gen(int argc, char **argv)
{
    opt opts[] = {{"--seed", 1, NULL},     {"--days", 1, NULL},    {"--start", 1, NULL},
                  {"--symbols", 1, NULL},  {"--rows-per-day", 1, NULL},
                  {"--out", 1, NULL},      {"--segments", 1, NULL}, {"--sorted", 0, NULL},
                  {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1];
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
    if (!out == !segdir)
        return usage_error("give exactly one of --out FILE.csv and --segments DIR");
    if ((out && !*out) || (segdir && !*segdir))
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
    char *pos[1];
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
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, argc, verify_help);
    if (st != GO_ON) {
        free(pos);
        return st;
    }
    if (n_pos == 0) {
        free(pos);
        return usage_error("missing SEGFILE");
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
    char *pos[1];
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

/* ---- main ------------------------------------------------------------------------ */

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
