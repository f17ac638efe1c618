/*
 * cli.h - what the CLI's command files share (tools/ticklake.c holds the
 * definitions, main() and the command table; each tools/cmd_*.c file holds
 * commands). The CLI sees only the public API (ticklake.h).
 *
 * Conventions kept by every command:
 * - exit 0 on success, 1 on an error reported by the library, 2 on a usage
 *   error (unknown command or option, missing or malformed argument);
 * - errors go to stderr as "ticklake: error: <message>";
 * - a command that reports figures takes --json and then prints exactly
 *   one JSON object on stdout (nothing else goes to stdout);
 * - progress goes to stderr, and only when stderr is a terminal.
 */
#ifndef TL_CLI_H
#define TL_CLI_H

#include "ticklake.h"

#include <stdint.h>
#include <stdio.h>

#define EXIT_OK 0
#define EXIT_ERR 1
#define EXIT_USAGE 2

extern const char *g_cmd; /* the running command's name, for usage hints */

/* Print "ticklake: error: <msg>" and a --help hint; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) TL_PRINTF(1, 2);
/* Print the library's error; returns EXIT_ERR. */
int lib_error(const tl_error *err);

/* ---- argument parsing ---- */
typedef struct opt {
    const char *name; /* "--seed" */
    int has_arg;
    const char *value; /* set when seen (has_arg), or "" for flags */
} opt;

#define GO_ON (-1) /* parse_args: arguments fine, the command runs */

/* Parse argv[0..argc) into opts and positionals. Returns GO_ON, or the
 * command's exit status when it is over: EXIT_OK after printing help (on
 * --help/-h) to stdout, EXIT_USAGE after printing a usage error. Options may
 * be given as "--name value" or "--name=value"; "--" ends options. */
int parse_args(int argc, char **argv, opt *opts, size_t n_opts, char **pos, int *n_pos,
               int max_pos, const char *help);
/* Exactly one positional TABLE: GO_ON with pos[0] set, or the exit status. */
int table_args(int argc, char **argv, opt *opts, size_t n_opts, char **pos, const char *help);
/* The value of option name (NULL if not given; "" for a flag given). */
const char *opt_val(const opt *opts, size_t n, const char *name);
/* Open TABLE: EXIT_OK, or EXIT_ERR after printing the library's error. */
int open_table(const char *path, tl_table **t);

/* Decimal unsigned integer: 0, or -1 if malformed or out of range. */
int parse_u64(const char *s, uint64_t *out);
/* Option value in [lo, hi]: 0, or EXIT_USAGE after printing an error naming name. */
int parse_num_opt(const char *name, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* A number >= 0: 0, or EXIT_USAGE after printing an error naming name. */
int parse_double_opt(const char *name, const char *s, double *out);
/* YYYY-MM-DD -> days since 1970-01-01: 0, or -1 if malformed. */
int parse_date(const char *s, int32_t *days);
/* ISO date/time (UTC) or integer ms since the epoch -> ms: 0, or -1. */
int parse_time_ms(const char *s, int64_t *ms);
/* --version N | --timestamp T -> tl_at (either may be NULL); 0 or EXIT_USAGE. */
int parse_at(const char *ver, const char *ts, tl_at *at);
/* The same for a command on TABLE: a --version that is not a number names a
 * tag of the table (tl_at_parse). 0, EXIT_USAGE or EXIT_ERR (printed). */
int parse_at_table(const char *table, const char *ver, const char *ts, tl_at *at);
/* --date D | --from D --to D -> *has and the day range; 0 or EXIT_USAGE. */
int parse_day_range(const char *d, const char *from, const char *to, int *has, int32_t *lo,
                    int32_t *hi);
/* --threads N, --io MODE (either may be NULL); 0 or EXIT_USAGE. */
int parse_io_opts(const char *threads, const char *io, uint32_t *n_threads, int *mode);

/* A comma-separated list, items trimmed of spaces. */
typedef struct strlist {
    char *buf;
    const char **v;
    uint32_t n;
} strlist;
int split_list(const char *s, strlist *out); /* 0, or -1 when out of memory */
void strlist_free(strlist *l);

/* ---- output ---- */
void json_str(FILE *f, const char *s);  /* a JSON string literal */
void json_num(FILE *f, double v);       /* %.6g; 0 if not finite */
void json_exact(FILE *f, double v);     /* exact shortest round-trip double */
const char *exact_num(double v, char *buf, size_t cap);
const char *grouped(uint64_t v, char *buf, size_t cap);      /* 1,234,567 */
const char *human_bytes(double b, char *buf, size_t cap);    /* 12.3 MiB */
size_t disp_width(const char *s);
void print_padded(const char *s, size_t width, int right);
void fmt_ms(int64_t ms, char *buf, size_t cap);   /* ms since epoch -> ISO UTC */
void fmt_day(int32_t day, char *buf, size_t cap); /* days -> YYYY-MM-DD */

/* ---- progress (stderr, only when it is a terminal: set active = isatty(2)) ---- */
typedef struct bar {
    int active;
} bar;
void progress_cb(void *ctx, uint64_t done, uint64_t total);   /* rows: a bar */
void progress_rows(void *ctx, uint64_t done, uint64_t total); /* bytes / rows buffered */
void bar_end(bar *b); /* clear the bar's line */

/* ---- commands in tools/cmd_*.c: int cmd_X(int argc, char **argv) and its
 * help text (each listed in the command table of ticklake.c) ---- */
int cmd_optimize(int argc, char **argv);
extern const char optimize_help[];
int cmd_repartition(int argc, char **argv);
extern const char repartition_help[];
int cmd_tag(int argc, char **argv);
extern const char tag_help[];
int cmd_tags(int argc, char **argv);
extern const char tags_help[];
/* `ticklake verify TABLE`: cmd_verify hands a directory argument to it. */
int cmd_fsck(int argc, char **argv);
int cmd_validate(int argc, char **argv);
extern const char validate_help[];
int cmd_resample(int argc, char **argv);
extern const char resample_help[];

#endif
