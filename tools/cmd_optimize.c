/*
 * cmd_optimize.c - `ticklake optimize` (compact small data files) and
 * `ticklake repartition` (rewrite under a new partition spec / sort key);
 * thin wrappers over tl_table_optimize and tl_table_repartition
 * (spec/MAINT.md). Conventions of cli.h: exit 0/1/2, --json prints one
 * object on stdout, progress on stderr only when it is a terminal.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char optimize_help[] =
    "usage: ticklake optimize TABLE [--symbols A,B] [--date D | --from D --to D]\n"
    "                         [--target-rows N] [--dry-run] [--json]\n"
    "\n"
    "Compact each partition's small data files (fewer rows than the target, at\n"
    "least two of them) into files of about the target size, merging their\n"
    "sorted runs (no re-sort), as one commit that removes the old files and adds\n"
    "the new ones (dataChange false). Older versions still read the old files\n"
    "until vacuum. Nothing to do: no commit.\n"
    "\n"
    "  --symbols A,B      only partitions of these symbols\n"
    "  --date D, --from D --to D   only partitions of these days (YYYY-MM-DD)\n"
    "  --target-rows N    rows per output file (default 16777216); files with\n"
    "                     at least N rows are left alone\n"
    "  --dry-run          list what would be merged; write nothing\n"
    "\n"
    "Automatic optimize (instead of optimizing now; one commit of the table's\n"
    "configuration):\n"
    "  --auto-min-files N after every append, optimize the partitions it wrote\n"
    "                     to that then hold at least N files below the target\n"
    "                     (ticklake.autoOptimize.minFiles; 0 turns it off)\n"
    "  --auto-target-rows N  the target of those (ticklake.autoOptimize.targetRows)\n"
    "  --dedup-keys A,B   dedup keys: appends keep one row per key (the whole sort\n"
    "                     key, plus optionally the symbol column; \"\" turns it off)\n"
    "  --dedup-mode M     upsert (a new row replaces the old, default) or drop\n"
    "                     (a new row whose key exists is dropped)\n";

const char repartition_help[] =
    "usage: ticklake repartition TABLE [--symbol-column C | --no-symbol]\n"
    "                            [--day-column C | --no-day] [--sort-key a,b,c]\n"
    "                            [--target-rows N] [--dry-run] [--json]\n"
    "\n"
    "Rewrite every live file of the table under a new partition spec and/or\n"
    "sort key, as one commit (a new metaData, removes of the old files, adds of\n"
    "the new ones). Older versions keep reading with their own spec. Memory is\n"
    "bounded (sorted runs spill to TABLE/_tmp/). Any concurrent commit makes it\n"
    "fail with a conflict, and nothing is visible.\n"
    "\n"
    "  --symbol-column C  partition by this string column; --no-symbol: not\n"
    "  --day-column C     partition by the UTC day of this timestamp column;\n"
    "                     --no-day: not\n"
    "  --sort-key a,b,c   new sort key (\"\" = none)\n"
    "  --target-rows N    rows per output file (default 16777216)\n"
    "  --dry-run          say what would be rewritten; write nothing\n";

static void print_day(int has, int null, int32_t day)
{
    char b[32];
    if (!has)
        return;
    if (null)
        printf(" day=(null)");
    else {
        fmt_day(day, b, sizeof b);
        printf(" day=%s", b);
    }
}

/* --auto-min-files, --auto-target-rows, --dedup-keys, --dedup-mode (o[0..3]):
 * set the table configuration, one commit per key. */
static int set_config(const char *table, const opt *o, int json, int other)
{
    if (other)
        return usage_error("--auto-min-files, --auto-target-rows, --dedup-keys and --dedup-mode "
                           "set the configuration and take no other option but --json");
    static const char *const keys[4] = {"ticklake.autoOptimize.minFiles",
                                        "ticklake.autoOptimize.targetRows", "ticklake.dedupKeys",
                                        "ticklake.dedupMode"};
    char nums[2][24];
    const char *val[4] = {NULL, NULL, NULL, NULL};
    uint64_t x;
    if (o[0].value) {
        if (parse_num_opt("--auto-min-files", o[0].value, 0, 1000000, &x))
            return EXIT_USAGE;
        snprintf(nums[0], sizeof nums[0], "%" PRIu64, x);
        val[0] = x ? nums[0] : NULL; /* 0: off, the key removed */
    }
    if (o[1].value) {
        if (parse_num_opt("--auto-target-rows", o[1].value, 1, (uint64_t)1 << 31, &x))
            return EXIT_USAGE;
        snprintf(nums[1], sizeof nums[1], "%" PRIu64, x);
        val[1] = nums[1];
    }
    if (o[2].value)
        val[2] = o[2].value[0] ? o[2].value : NULL; /* "": off */
    if (o[3].value) {
        if (strcmp(o[3].value, "upsert") != 0 && strcmp(o[3].value, "drop") != 0)
            return usage_error("--dedup-mode: expected upsert or drop, got '%s'", o[3].value);
        val[3] = o[3].value;
    }
    tl_table *t;
    int st = open_table(table, &t);
    if (st != EXIT_OK)
        return st;
    tl_error err = {0};
    int64_t v = -1;
    for (int i = 0; i < 4; i++) {
        if (!o[i].value)
            continue;
        if (tl_table_set_config(t, keys[i], val[i], &v, &err) != TL_OK) {
            tl_table_close(t);
            return lib_error(&err);
        }
    }
    tl_table_close(t);
    if (json) {
        printf("{\"command\":\"optimize\",\"table\":");
        json_str(stdout, table);
        printf(",\"version\":%" PRId64 ",\"configuration\":{", v);
        int sep = 0;
        for (int i = 0; i < 4; i++) {
            if (!o[i].value)
                continue;
            printf("%s", sep++ ? "," : "");
            json_str(stdout, keys[i]);
            printf(":");
            if (val[i])
                json_str(stdout, val[i]);
            else
                printf("null");
        }
        printf("}}\n");
    } else {
        printf("optimize: version %" PRId64 ": configuration", v);
        for (int i = 0; i < 4; i++)
            if (o[i].value)
                printf(" %s=%s", keys[i], val[i] ? val[i] : "(removed)");
        printf("\n");
    }
    return EXIT_OK;
}

int cmd_optimize(int argc, char **argv)
{
    opt opts[] = {{"--symbols", 1, NULL},       {"--date", 1, NULL},
                  {"--from", 1, NULL},          {"--to", 1, NULL},
                  {"--target-rows", 1, NULL},   {"--dry-run", 0, NULL},
                  {"--json", 0, NULL},          {"--auto-min-files", 1, NULL},
                  {"--auto-target-rows", 1, NULL}, {"--dedup-keys", 1, NULL},
                  {"--dedup-mode", 1, NULL}};
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, 11, pos, optimize_help);
    if (st != GO_ON)
        return st;
    if (opts[7].value || opts[8].value || opts[9].value || opts[10].value)
        return set_config(pos[0], opts + 7, opts[6].value != NULL,
                          opts[0].value || opts[1].value || opts[2].value || opts[3].value ||
                              opts[4].value || opts[5].value);
    tl_optimize_opts oo = {0};
    strlist syms = {0};
    if (opts[0].value) {
        if (split_list(opts[0].value, &syms))
            return usage_error("out of memory");
        if (syms.n == 0)
            return usage_error("--symbols: an empty list");
        oo.symbols = syms.v;
        oo.n_symbols = syms.n;
    }
    if (parse_day_range(opts[1].value, opts[2].value, opts[3].value, &oo.has_days, &oo.day_from,
                        &oo.day_to)) {
        strlist_free(&syms);
        return EXIT_USAGE;
    }
    if (opts[4].value && parse_num_opt("--target-rows", opts[4].value, 1, (uint64_t)1 << 31,
                                       &oo.target_rows)) {
        strlist_free(&syms);
        return EXIT_USAGE;
    }
    oo.dry_run = opts[5].value != NULL;
    int json = opts[6].value != NULL;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK) {
        strlist_free(&syms);
        return st;
    }
    bar b = {.active = isatty(STDERR_FILENO) && !oo.dry_run};
    oo.progress = progress_cb;
    oo.progress_ctx = &b;
    tl_error err = {0};
    tl_optimize_result r;
    int rc = tl_table_optimize(t, &oo, &r, &err);
    bar_end(&b);
    tl_table_close(t);
    strlist_free(&syms);
    if (rc != TL_OK)
        return lib_error(&err);
    if (json) {
        printf("{\"command\":\"optimize\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"dry_run\":%s,\"committed\":%s,\"read_version\":%" PRId64
               ",\"version\":%" PRId64 ",\"partitions\":%" PRIu64 ",\"partitions_seen\":%" PRIu64
               ",\"files_removed\":%" PRIu64 ",\"files_added\":%" PRIu64 ",\"rows\":%" PRIu64
               ",\"bytes_removed\":%" PRIu64 ",\"bytes_added\":%" PRIu64
               ",\"attempts\":%d,\"redone\":%d,\"merge_passes\":%d,\"elapsed_s\":",
               r.dry_run ? "true" : "false", r.committed ? "true" : "false", r.read_version,
               r.version, r.partitions, r.partitions_seen, r.files_removed, r.files_added, r.rows,
               r.bytes_removed, r.bytes_added, r.attempts, r.redone, r.merge_passes);
        json_num(stdout, r.elapsed_s);
        printf(",\"rows_per_s\":");
        json_num(stdout, r.rows_per_s);
        printf(",\"parts\":[");
        for (uint64_t i = 0; i < r.partitions; i++) {
            const tl_optimize_part *p = &r.parts[i];
            printf("%s{", i ? "," : "");
            int sep = 0;
            if (p->has_symbol) {
                printf("\"symbol\":");
                if (p->symbol_null)
                    printf("null");
                else
                    json_str(stdout, p->symbol);
                sep = 1;
            }
            if (p->has_day) {
                char d[32];
                printf("%s\"day\":", sep ? "," : "");
                if (p->day_null)
                    printf("null");
                else {
                    fmt_day(p->day, d, sizeof d);
                    json_str(stdout, d);
                }
                sep = 1;
            }
            printf("%s\"files_in\":%u,\"files_out\":%u,\"rows\":%" PRIu64 ",\"bytes_in\":%" PRIu64
                   ",\"bytes_out\":%" PRIu64 ",\"paths_in\":[",
                   sep ? "," : "", p->files_in, p->files_out, p->rows, p->bytes_in, p->bytes_out);
            for (uint32_t k = 0; k < p->files_in; k++) {
                printf("%s", k ? "," : "");
                json_str(stdout, p->paths_in[k]);
            }
            printf("]}");
        }
        printf("]}\n");
    } else {
        char g1[32], g2[32], hb[32], hb2[32];
        for (uint64_t i = 0; i < r.partitions; i++) {
            const tl_optimize_part *p = &r.parts[i];
            printf("  %s", r.dry_run ? "would merge" : "merged");
            if (p->has_symbol)
                printf(" symbol=%s", p->symbol_null ? "(null)" : p->symbol);
            print_day(p->has_day, p->day_null, p->day);
            printf(": %u files, %s rows", p->files_in, grouped(p->rows, g1, sizeof g1));
            if (!r.dry_run)
                printf(" -> %u file%s", p->files_out, p->files_out == 1 ? "" : "s");
            printf("\n");
            if (r.dry_run)
                for (uint32_t k = 0; k < p->files_in; k++)
                    printf("    %s\n", p->paths_in[k]);
        }
        if (r.partitions == 0)
            printf("optimize: nothing to do (%" PRIu64 " partition%s checked, table at version %"
                   PRId64 ")\n",
                   r.partitions_seen, r.partitions_seen == 1 ? "" : "s", r.read_version);
        else if (r.dry_run)
            printf("optimize --dry-run: %" PRIu64 " partitions, %" PRIu64 " files, %s rows, %s "
                   "(table at version %" PRId64 ")\n",
                   r.partitions, r.files_removed, grouped(r.rows, g1, sizeof g1),
                   human_bytes((double)r.bytes_removed, hb, sizeof hb), r.read_version);
        else
            printf("optimize: version %" PRId64 ": %" PRIu64 " partitions, %" PRIu64
                   " files -> %" PRIu64 ", %s rows, %s -> %s, %.2f s (%s rows/s)\n",
                   r.version, r.partitions, r.files_removed, r.files_added,
                   grouped(r.rows, g1, sizeof g1),
                   human_bytes((double)r.bytes_removed, hb, sizeof hb),
                   human_bytes((double)r.bytes_added, hb2, sizeof hb2), r.elapsed_s,
                   grouped((uint64_t)r.rows_per_s, g2, sizeof g2));
    }
    tl_optimize_result_free(&r);
    return EXIT_OK;
}

int cmd_repartition(int argc, char **argv)
{
    opt opts[] = {{"--symbol-column", 1, NULL}, {"--no-symbol", 0, NULL},
                  {"--day-column", 1, NULL},    {"--no-day", 0, NULL},
                  {"--sort-key", 1, NULL},      {"--target-rows", 1, NULL},
                  {"--dry-run", 0, NULL},       {"--json", 0, NULL}};
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, 8, pos, repartition_help);
    if (st != GO_ON)
        return st;
    tl_repartition_opts ro = {0};
    ro.symbol_column = opts[0].value;
    ro.no_symbol = opts[1].value != NULL;
    ro.day_column = opts[2].value;
    ro.no_day = opts[3].value != NULL;
    if (ro.symbol_column && ro.no_symbol)
        return usage_error("--symbol-column and --no-symbol together");
    if (ro.day_column && ro.no_day)
        return usage_error("--day-column and --no-day together");
    if ((ro.symbol_column && !ro.symbol_column[0]) || (ro.day_column && !ro.day_column[0]))
        return usage_error("an empty column name");
    strlist sk = {0};
    if (opts[4].value) {
        if (split_list(opts[4].value, &sk))
            return usage_error("out of memory");
        ro.set_sort_key = 1;
        ro.sort_key = sk.v;
        ro.n_sort_key = sk.n;
    }
    if (opts[5].value && parse_num_opt("--target-rows", opts[5].value, 1, (uint64_t)1 << 31,
                                       &ro.target_rows)) {
        strlist_free(&sk);
        return EXIT_USAGE;
    }
    ro.dry_run = opts[6].value != NULL;
    int json = opts[7].value != NULL;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK) {
        strlist_free(&sk);
        return st;
    }
    bar b = {.active = isatty(STDERR_FILENO) && !ro.dry_run};
    ro.progress = progress_cb;
    ro.progress_ctx = &b;
    tl_error err = {0};
    tl_repartition_result r;
    int rc = tl_table_repartition(t, &ro, &r, &err);
    bar_end(&b);
    tl_table_close(t);
    strlist_free(&sk);
    if (rc != TL_OK)
        return lib_error(&err);
    if (json) {
        printf("{\"command\":\"repartition\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"dry_run\":%s,\"committed\":%s,\"unchanged\":%s,\"read_version\":%" PRId64
               ",\"version\":%" PRId64 ",\"rows\":%" PRIu64 ",\"files_removed\":%" PRIu64
               ",\"files_added\":%" PRIu64 ",\"bytes_removed\":%" PRIu64 ",\"bytes_added\":%" PRIu64
               ",\"partitions_before\":%" PRIu64 ",\"partitions_after\":%" PRIu64
               ",\"runs_spilled\":%" PRIu64 ",\"elapsed_s\":",
               r.dry_run ? "true" : "false", r.committed ? "true" : "false",
               r.unchanged ? "true" : "false", r.read_version, r.version, r.rows, r.files_removed,
               r.files_added, r.bytes_removed, r.bytes_added, r.partitions_before,
               r.partitions_after, r.runs_spilled);
        json_num(stdout, r.elapsed_s);
        printf(",\"rows_per_s\":");
        json_num(stdout, r.rows_per_s);
        printf("}\n");
    } else {
        char g1[32], hb[32], hb2[32];
        if (r.unchanged)
            printf("repartition: nothing to do (the table already has this partition spec and "
                   "sort key; version %" PRId64 ")\n",
                   r.read_version);
        else if (r.dry_run)
            printf("repartition --dry-run: would rewrite %" PRIu64 " files (%s rows, %s) of %"
                   PRIu64 " partitions (table at version %" PRId64 ")\n",
                   r.files_removed, grouped(r.rows, g1, sizeof g1),
                   human_bytes((double)r.bytes_removed, hb, sizeof hb), r.partitions_before,
                   r.read_version);
        else
            printf("repartition: version %" PRId64 ": %" PRIu64 " files in %" PRIu64
                   " partitions -> %" PRIu64 " files in %" PRIu64 " partitions, %s rows, %s -> "
                   "%s, %" PRIu64 " runs spilled, %.2f s\n",
                   r.version, r.files_removed, r.partitions_before, r.files_added,
                   r.partitions_after, grouped(r.rows, g1, sizeof g1),
                   human_bytes((double)r.bytes_removed, hb, sizeof hb),
                   human_bytes((double)r.bytes_added, hb2, sizeof hb2), r.runs_spilled,
                   r.elapsed_s);
    }
    return EXIT_OK;
}
