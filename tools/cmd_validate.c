/*
 * cmd_validate.c - `ticklake validate TABLE`: data-quality checks
 * (tl_table_validate, spec/QUALITY.md) as text or one JSON object,
 * optionally written into a findings table. Reads the holiday calendar
 * file (one YYYY-MM-DD per line, '#' starts a comment) and the session
 * text (HH:MM-HH:MM, UTC) here; everything else is the library's.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char validate_help[] =
    "usage: ticklake validate TABLE [--version N|TAG | --timestamp T] [--symbols A,B]\n"
    "                         [--from D --to D] [--calendar FILE] [--gap SECONDS]\n"
    "                         [--session HH:MM-HH:MM] [--jump-sigma K] [--min-changes N]\n"
    "                         [--price COL] [--volume COL] [--bid COL] [--ask COL]\n"
    "                         [--since-version N | --incremental] [--no-save]\n"
    "                         [--examples N] [--into TABLE2] [--threads N] [--io MODE] [--json]\n"
    "\n"
    "Check a table's data quality (spec/QUALITY.md): coverage (trading days per\n"
    "symbol: weekdays, minus the calendar's holidays), gaps between ticks, null\n"
    "rates, bid > ask, negative prices and volumes, price jumps, timestamps\n"
    "outside the session, duplicate keys. Read-only, except that the version\n"
    "validated is remembered in TABLE/_ticklake/validate.json.\n"
    "\n"
    "  --from D --to D     days to check and the coverage range (default: the\n"
    "                      table's first .. last day)\n"
    "  --calendar FILE     non-trading weekdays, one YYYY-MM-DD a line, # comments\n"
    "  --gap SECONDS       report gaps longer than this (default 60; 0 = off)\n"
    "  --session A-B       trading session, UTC (e.g. 03:45-10:00): ticks outside\n"
    "                      it are reported, gaps counted from open and to close\n"
    "  --jump-sigma K      price changes beyond K trimmed sigmas (default 10; 0 = off)\n"
    "  --min-changes N     price changes a contract-day needs for the jump check\n"
    "                      (default 20)\n"
    "  --price/--volume/--bid/--ask COL   columns checked (price, volume, bp0, sp0)\n"
    "  --since-version N   check only partitions with files added after version N\n"
    "  --incremental       the same, from the version remembered by the last run\n"
    "  --no-save           do not remember the version validated\n"
    "  --examples N        examples per check (default 10)\n"
    "  --into TABLE2       also append the findings to TABLE2 (created if missing)\n"
    "  --json              print one JSON object\n";

static int parse_hhmm(const char *s, int64_t *ns)
{
    if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
          s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9'))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *ns = ((int64_t)h * 3600 + m * 60) * INT64_C(1000000000);
    return 0;
}

static int parse_session(const char *s, int64_t *open, int64_t *close)
{
    if (strlen(s) != 11 || s[5] != '-' || parse_hhmm(s, open) || parse_hhmm(s + 6, close) ||
        *open >= *close)
        return usage_error("--session: expected HH:MM-HH:MM (UTC, open before close), got '%s'",
                           s);
    return 0;
}

/* Holidays from path: 0, or EXIT_ERR after printing an error naming the line. */
static int read_calendar(const char *path, int32_t **days, uint32_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ticklake: error: --calendar %s: %s\n", path, strerror(errno));
        return EXIT_ERR;
    }
    char line[256];
    uint32_t cap = 0, line_no = 0;
    *days = NULL;
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        char *h = strchr(line, '#');
        if (h)
            *h = 0;
        char *p = line, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = 0;
        if (!*p)
            continue;
        int32_t d;
        if (parse_date(p, &d)) {
            fprintf(stderr, "ticklake: error: --calendar %s: line %u: expected YYYY-MM-DD, got '%s'\n",
                    path, line_no, p);
            fclose(f);
            free(*days);
            return EXIT_ERR;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int32_t *q = realloc(*days, cap * sizeof *q);
            if (!q) {
                fclose(f);
                free(*days);
                fputs("ticklake: error: out of memory\n", stderr);
                return EXIT_ERR;
            }
            *days = q;
        }
        (*days)[(*n)++] = d;
    }
    fclose(f);
    return 0;
}

int cmd_validate(int argc, char **argv)
{
    opt opts[] = {{"--version", 1, NULL},     {"--timestamp", 1, NULL},  {"--symbols", 1, NULL},
                  {"--from", 1, NULL},        {"--to", 1, NULL},         {"--date", 1, NULL},
                  {"--calendar", 1, NULL},    {"--gap", 1, NULL},        {"--session", 1, NULL},
                  {"--jump-sigma", 1, NULL},  {"--min-changes", 1, NULL}, {"--price", 1, NULL},
                  {"--volume", 1, NULL},      {"--bid", 1, NULL},        {"--ask", 1, NULL},
                  {"--since-version", 1, NULL}, {"--incremental", 0, NULL}, {"--no-save", 0, NULL},
                  {"--examples", 1, NULL},    {"--into", 1, NULL},       {"--threads", 1, NULL},
                  {"--io", 1, NULL},          {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, validate_help);
    if (st != GO_ON)
        return st;
#define SV(name) opt_val(opts, no, name)
    tl_at at;
    if ((st = parse_at_table(pos[0], SV("--version"), SV("--timestamp"), &at)))
        return st;
    tl_validate_opts o;
    memset(&o, 0, sizeof o);
    if (parse_day_range(SV("--date"), SV("--from"), SV("--to"), &o.has_days, &o.day_from,
                        &o.day_to))
        return EXIT_USAGE;
    if (parse_io_opts(SV("--threads"), SV("--io"), &o.threads, &o.io))
        return EXIT_USAGE;
    if (SV("--gap")) {
        double g;
        if (parse_double_opt("--gap", SV("--gap"), &g))
            return EXIT_USAGE;
        if (g > 1e9)
            return usage_error("--gap: at most 1e9 seconds, got '%s'", SV("--gap"));
        o.gap_ns = g == 0 ? -1 : (int64_t)(g * 1e9 + 0.5);
        if (o.gap_ns == 0)
            o.gap_ns = 1;
    }
    if (SV("--session")) {
        if (parse_session(SV("--session"), &o.session_open_ns, &o.session_close_ns))
            return EXIT_USAGE;
        o.has_session = 1;
    }
    if (SV("--jump-sigma")) {
        double k;
        if (parse_double_opt("--jump-sigma", SV("--jump-sigma"), &k))
            return EXIT_USAGE;
        o.jump_sigma = k == 0 ? -1 : k;
    }
    uint64_t v;
    if (SV("--min-changes")) {
        if (parse_num_opt("--min-changes", SV("--min-changes"), 3, UINT32_MAX, &v))
            return EXIT_USAGE;
        o.jump_min_changes = (uint32_t)v;
    }
    if (SV("--examples")) {
        if (parse_num_opt("--examples", SV("--examples"), 1, 100000, &v))
            return EXIT_USAGE;
        o.max_examples = (uint32_t)v;
    }
    if (SV("--since-version") && SV("--incremental"))
        return usage_error("give at most one of --since-version and --incremental");
    if (SV("--since-version")) {
        if (parse_num_opt("--since-version", SV("--since-version"), 0, (uint64_t)INT64_MAX, &v))
            return EXIT_USAGE;
        o.has_since = 1;
        o.since_version = (int64_t)v;
    }
    o.incremental = SV("--incremental") != NULL;
    o.save_state = SV("--no-save") == NULL;
    o.price_col = SV("--price");
    o.volume_col = SV("--volume");
    o.bid_col = SV("--bid");
    o.ask_col = SV("--ask");
    int json = SV("--json") != NULL;
    strlist syms = {0};
    if (SV("--symbols")) {
        if (split_list(SV("--symbols"), &syms)) {
            fputs("ticklake: error: out of memory\n", stderr);
            return EXIT_ERR;
        }
        o.symbols = syms.v;
        o.n_symbols = syms.n;
    }
    int32_t *hol = NULL;
    uint32_t n_hol = 0;
    int ret = EXIT_OK;
    if (SV("--calendar") && (ret = read_calendar(SV("--calendar"), &hol, &n_hol)) != 0) {
        strlist_free(&syms);
        return ret;
    }
    o.holidays = hol;
    o.n_holidays = n_hol;
    bar pb = {isatty(STDERR_FILENO)};
    o.progress = progress_cb;
    o.progress_ctx = &pb;

    tl_error err = {0};
    tl_table *t = NULL;
    tl_validate_report rep;
    memset(&rep, 0, sizeof rep);
    if (tl_table_open(pos[0], &t, &err) != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    int rc = tl_table_validate(t, &at, &o, &rep, &err);
    bar_end(&pb);
    if (rc != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    if (SV("--into") && tl_validate_write_table(&rep, SV("--into"), &err) != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    if (rep.scan.io_fallback)
        fprintf(stderr, "ticklake: note: %s\n", rep.scan.io_note);
    if (tl_validate_report_print(&rep, stdout, json, &err) != TL_OK)
        ret = lib_error(&err);
out:
    tl_validate_report_free(&rep);
    tl_table_close(t);
    free(hol);
    strlist_free(&syms);
    return ret;
#undef SV
}
