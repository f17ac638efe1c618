/*
 * cmd_resample.c - `ticklake resample SRC DST`: ticks to OHLCV bars or to
 * the tightest quote per interval (tl_table_resample, spec/QUALITY.md),
 * written into DST as one commit.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char resample_help[] =
    "usage: ticklake resample SRC DST --interval 1s|1m|5m|1h|1d [--per contract|symbol]\n"
    "                         [--kind bars|quotes] [--version N|TAG | --timestamp T]\n"
    "                         [--symbols A,B] [--from D --to D] [--price COL] [--volume COL]\n"
    "                         [--bid COL] [--ask COL] [--bid-size COL] [--ask-size COL]\n"
    "                         [--app-id ID --app-version N] [--threads N] [--io MODE] [--json]\n"
    "\n"
    "Resample ticks into DST (created if missing, partitioned like SRC, sorted by\n"
    "contract then bar_time) as one commit. Intervals start at multiples of the\n"
    "interval since the epoch (UTC) and divide a day (ms, s, m, h, d).\n"
    "\n"
    "  --kind bars      open/high/low/close of the price (nulls skipped), volume sum,\n"
    "                   tick count, first/last timestamp (default)\n"
    "  --kind quotes    per interval the row with the tightest ask - bid (both > 0,\n"
    "                   ask >= bid; ties: the earliest) with its sizes\n"
    "  --per contract   per (symbol, expiry, opt_type, strike): the source's sort key\n"
    "                   without its timestamp (default); --per symbol: per symbol\n"
    "  --app-id/--app-version   idempotent: a second run with the same pair is a no-op\n"
    "  --json           print one JSON object\n";

int cmd_resample(int argc, char **argv)
{
    opt opts[] = {{"--interval", 1, NULL}, {"--per", 1, NULL},       {"--kind", 1, NULL},
                  {"--version", 1, NULL},  {"--timestamp", 1, NULL}, {"--symbols", 1, NULL},
                  {"--from", 1, NULL},     {"--to", 1, NULL},        {"--date", 1, NULL},
                  {"--price", 1, NULL},    {"--volume", 1, NULL},    {"--bid", 1, NULL},
                  {"--ask", 1, NULL},      {"--bid-size", 1, NULL},  {"--ask-size", 1, NULL},
                  {"--app-id", 1, NULL},   {"--app-version", 1, NULL}, {"--threads", 1, NULL},
                  {"--io", 1, NULL},       {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[2] = {0};
    int n_pos = 0;
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, 2, resample_help);
    if (st != GO_ON)
        return st;
    if (n_pos != 2)
        return usage_error("expected SRC and DST tables, got %d argument%s", n_pos,
                           n_pos == 1 ? "" : "s");
#define SV(name) opt_val(opts, no, name)
    tl_resample_opts o;
    memset(&o, 0, sizeof o);
    tl_error err = {0};
    if (!SV("--interval"))
        return usage_error("--interval is required (e.g. 1s, 1m, 5m, 1h, 1d)");
    if (tl_resample_parse_interval(SV("--interval"), &o.interval_ns, &err) != TL_OK)
        return usage_error("--interval: %s", err.msg);
    const char *per = SV("--per"), *kind = SV("--kind");
    if (per && strcmp(per, "contract") == 0)
        o.per = TL_RESAMPLE_PER_CONTRACT;
    else if (per && strcmp(per, "symbol") == 0)
        o.per = TL_RESAMPLE_PER_SYMBOL;
    else if (per)
        return usage_error("--per: expected contract or symbol, got '%s'", per);
    if (kind && strcmp(kind, "bars") == 0)
        o.kind = TL_RESAMPLE_BARS;
    else if (kind && strcmp(kind, "quotes") == 0)
        o.kind = TL_RESAMPLE_QUOTES;
    else if (kind)
        return usage_error("--kind: expected bars or quotes, got '%s'", kind);
    tl_at at;
    if ((st = parse_at_table(pos[0], SV("--version"), SV("--timestamp"), &at)))
        return st;
    if (parse_day_range(SV("--date"), SV("--from"), SV("--to"), &o.has_days, &o.day_from,
                        &o.day_to))
        return EXIT_USAGE;
    if (parse_io_opts(SV("--threads"), SV("--io"), &o.threads, &o.io))
        return EXIT_USAGE;
    const char *id = SV("--app-id"), *ver = SV("--app-version");
    if (!!id != !!ver)
        return usage_error("--app-id and --app-version go together");
    if (id) {
        uint64_t v;
        if (!*id)
            return usage_error("--app-id: empty");
        if (parse_num_opt("--app-version", ver, 0, (uint64_t)INT64_MAX, &v))
            return EXIT_USAGE;
        o.append.app_id = id;
        o.append.app_version = (int64_t)v;
    }
    o.price_col = SV("--price");
    o.volume_col = SV("--volume");
    o.bid_col = SV("--bid");
    o.ask_col = SV("--ask");
    o.bid_size_col = SV("--bid-size");
    o.ask_size_col = SV("--ask-size");
    strlist syms = {0};
    if (SV("--symbols")) {
        if (split_list(SV("--symbols"), &syms)) {
            fputs("ticklake: error: out of memory\n", stderr);
            return EXIT_ERR;
        }
        o.symbols = syms.v;
        o.n_symbols = syms.n;
    }
    int json = SV("--json") != NULL;
    bar pb = {isatty(STDERR_FILENO)};
    o.progress = progress_cb;
    o.progress_ctx = &pb;
    int ret = EXIT_OK;
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    tl_resample_result r;
    memset(&r, 0, sizeof r);
    if (tl_table_open(pos[0], &t, &err) != TL_OK || tl_snapshot_open(t, &at, &s, &err) != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    int rc = tl_table_resample(s, pos[1], &o, &r, &err);
    bar_end(&pb);
    if (rc != TL_OK) {
        ret = lib_error(&err);
        goto out;
    }
    if (json) {
        printf("{\"src\":");
        json_str(stdout, pos[0]);
        printf(",\"dst\":");
        json_str(stdout, pos[1]);
        printf(",\"src_version\":%" PRId64 ",\"interval_ns\":%" PRId64
               ",\"kind\":\"%s\",\"per\":\"%s\",\"rows_in\":%" PRIu64 ",\"rows_out\":%" PRIu64
               ",\"created\":%s,\"noop\":%s,\"version\":%" PRId64 ",\"files\":%" PRIu64
               ",\"elapsed_s\":",
               r.src_version, o.interval_ns, o.kind == TL_RESAMPLE_BARS ? "bars" : "quotes",
               o.per == TL_RESAMPLE_PER_SYMBOL ? "symbol" : "contract", r.rows_in, r.rows_out,
               r.created ? "true" : "false", r.append.noop ? "true" : "false", r.append.version,
               r.append.n_files);
        json_num(stdout, r.elapsed_s);
        printf("}\n");
    } else {
        char a[32], b[32];
        printf("%s version %" PRId64 " -> %s%s\n", pos[0], r.src_version, pos[1],
               r.created ? " (created)" : "");
        if (r.append.noop)
            printf("no-op: app %s version %" PRId64 " already applied (version %" PRId64 ")\n",
                   id, o.append.app_version, r.append.version);
        else
            printf("%s rows -> %s %s in version %" PRId64 " (%" PRIu64 " files), %.2f s\n",
                   grouped(r.rows_in, a, sizeof a), grouped(r.rows_out, b, sizeof b),
                   o.kind == TL_RESAMPLE_BARS ? "bars" : "quotes", r.append.version,
                   r.append.n_files, r.elapsed_s);
    }
out:
    tl_snapshot_close(s);
    tl_table_close(t);
    strlist_free(&syms);
    return ret;
#undef SV
}
