/*
 * table_int.h - internals of tables shared by table.c (create, open,
 * append), snapshot.c (snapshots, files, rows, history) and the tests:
 * the tl_table handle and opening a table through a chosen tl_io (fault
 * injection) with a chosen clock.
 */
#ifndef TL_TABLE_INT_H
#define TL_TABLE_INT_H

#include "ticklake.h"
#include "io_int.h"
#include "log_int.h"

/* Configuration key (LOG.md 5.3): comma-separated columns the writer keeps
 * fast to decode (tlf_col_opts.hot). Not a protocol setting: readers need
 * not know it. */
#define TL_CONF_HOT_COLUMNS "ticklake.hotColumns"

struct tl_table {
    char *path;
    const tl_io *io;
    tl_io_file root;
    int64_t (*now_ms)(void *arg); /* NULL: CLOCK_REALTIME */
    void *now_arg;
    int delta; /* 1: a Delta Lake table (LOG-D1): read-only; snapshots and
                  history read its log in the Delta dialect; every write
                  returns TL_EUNSUPPORTED */
};

/* tl_table_open with an I/O layer and a clock (both may be NULL). */
TL_WUR int tl_table_open_io(const char *path, const tl_io *io, int64_t (*now_ms)(void *),
                            void *now_arg, tl_table **out, tl_error *err);

/* tl_table_create through io / clock. */
TL_WUR int tl_table_create_io(const char *path, const tl_table_spec *spec, const tl_io *io,
                              int64_t (*now_ms)(void *), void *now_arg, tl_error *err);

int64_t tl_table_now_ms(const tl_table *t);

#endif /* TL_TABLE_INT_H */
