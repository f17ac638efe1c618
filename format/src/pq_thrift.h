/*
 * pq_thrift.h - internal: a bounded Thrift COMPACT protocol reader and an
 * appending writer (the encoding of Parquet's metadata). Knows wire types
 * only; the Parquet structs live in pq_meta.h.
 *
 * Wire format (Thrift compact protocol, as Parquet uses it):
 *   varint      unsigned LEB128, 7 bits per byte, low group first; at most
 *               10 bytes for 64 bits, 5 for 32 bits (longer = corrupt).
 *   i16/i32/i64 zigzag ((n << 1) ^ (n >> 63)) then varint.
 *   byte        1 raw byte (i8).
 *   double      8 bytes little-endian IEEE 754.
 *   binary      varint length (u32), then that many bytes.
 *   field hdr   1 byte: high nibble = field-id delta 1..15 from the previous
 *               field of the same struct, low nibble = wire type; delta 0 =
 *               long form: the byte is followed by the field id as zigzag
 *               i16 varint. The byte 0x00 is STOP (end of struct).
 *               A bool field carries its value in the type: 1 true, 2 false.
 *   list/set    1 byte: high nibble = size 0..14, low nibble = element type;
 *               size nibble 15 = long form: varint size follows. Bool
 *               elements are 1 byte each (1 true; 2 or 0 false).
 *   map         varint size; if size > 0, 1 byte key type << 4 | value type.
 *   struct      fields, then STOP.
 *   Wire types: BOOLEAN_TRUE=1 BOOLEAN_FALSE=2 BYTE=3 I16=4 I32=5 I64=6
 *               DOUBLE=7 BINARY=8 LIST=9 SET=10 MAP=11 STRUCT=12 (UUID=13:
 *               16 raw bytes, skipped only).
 *
 * Reader limits: nesting (structs + containers) <= TLF_THR_MAX_DEPTH; every
 * binary length and container size is checked against the bytes left
 * (an element takes >= 1 byte, a map entry >= 2, a double 8) before the
 * caller allocates anything for it. Errors are TL_ECORRUPT with messages
 * "<what> at byte N" where N = base + position in the buffer; the metadata
 * layer prefixes the struct/field path.
 */
#ifndef TL_PQ_THRIFT_H
#define TL_PQ_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "enc.h"
#include "tl_error.h"

enum {
    TLF_THR_STOP = 0,
    TLF_THR_TRUE = 1, /* BOOLEAN_TRUE (also: bool list element type) */
    TLF_THR_FALSE = 2,
    TLF_THR_BYTE = 3,
    TLF_THR_I16 = 4,
    TLF_THR_I32 = 5,
    TLF_THR_I64 = 6,
    TLF_THR_DOUBLE = 7,
    TLF_THR_BINARY = 8,
    TLF_THR_LIST = 9,
    TLF_THR_SET = 10,
    TLF_THR_MAP = 11,
    TLF_THR_STRUCT = 12,
    TLF_THR_UUID = 13,
};

#define TLF_THR_MAX_DEPTH 64

/* ---- reader ---------------------------------------------------------------- */

typedef struct tlf_thr_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;   /* next byte to read */
    uint64_t base; /* added to pos in messages (e.g. file offset of p[0]) */
    int depth;    /* open structs + containers */
    int n_fid;    /* open structs (entries used in last_fid) */
    int16_t last_fid[TLF_THR_MAX_DEPTH + 1];
} tlf_thr_reader;

void tlf_thr_reader_init(tlf_thr_reader *r, const void *buf, size_t len,
                         uint64_t base);
/* base + pos: the byte offset messages report */
static inline uint64_t tlf_thr_offset(const tlf_thr_reader *r)
{
    return r->base + r->pos;
}
/* Set err to TL_ECORRUPT "<fmt> at byte <offset>" and return TL_ECORRUPT. */
int tlf_thr_fail(const tlf_thr_reader *r, tl_error *err, const char *fmt, ...)
    TL_PRINTF(3, 4);

/* Enter a struct (depth check; resets the field-id delta base). */
TL_WUR int tlf_thr_struct_begin(tlf_thr_reader *r, tl_error *err);
/* Leave it, after tlf_thr_field returned STOP. */
void tlf_thr_struct_end(tlf_thr_reader *r);
/* Next field header: *type = TLF_THR_STOP at the end of the struct (fid
 * then 0); for bool fields *type is TLF_THR_TRUE/FALSE (the value).
 * Invalid wire types (0 with a nonzero delta, 13..15 except UUID) are
 * corrupt. */
TL_WUR int tlf_thr_field(tlf_thr_reader *r, int *type, int16_t *fid,
                         tl_error *err);

TL_WUR int tlf_thr_read_varint(tlf_thr_reader *r, unsigned max_bytes,
                               uint64_t *v, tl_error *err);
TL_WUR int tlf_thr_read_byte(tlf_thr_reader *r, int8_t *v, tl_error *err);
TL_WUR int tlf_thr_read_i16(tlf_thr_reader *r, int16_t *v, tl_error *err);
TL_WUR int tlf_thr_read_i32(tlf_thr_reader *r, int32_t *v, tl_error *err);
TL_WUR int tlf_thr_read_i64(tlf_thr_reader *r, int64_t *v, tl_error *err);
TL_WUR int tlf_thr_read_double(tlf_thr_reader *r, double *v, tl_error *err);
/* *p points into the buffer (not copied, not NUL-terminated). */
TL_WUR int tlf_thr_read_binary(tlf_thr_reader *r, const uint8_t **p,
                               uint32_t *len, tl_error *err);
/* A bool list element: 1 byte, 1 = true, 0 or 2 = false. */
TL_WUR int tlf_thr_read_bool_elem(tlf_thr_reader *r, uint8_t *v, tl_error *err);

/* List or set header (depth +1): element type and size, the size checked
 * against the bytes left (elements >= 1 byte, doubles 8 bytes). Bool
 * elements are reported as TLF_THR_TRUE whichever of 1/2 the writer used. */
TL_WUR int tlf_thr_list_begin(tlf_thr_reader *r, int *elem_type, uint32_t *n,
                              tl_error *err);
void tlf_thr_list_end(tlf_thr_reader *r);
/* Map header (depth +1); *n = 0 leaves the key/value types 0. */
TL_WUR int tlf_thr_map_begin(tlf_thr_reader *r, int *key_type, int *val_type,
                             uint32_t *n, tl_error *err);
void tlf_thr_map_end(tlf_thr_reader *r);

/* Skip one value of wire type `type` (a field's type, or a container's
 * element type; TLF_THR_TRUE/FALSE as a field type consume nothing, as an
 * element type 1 byte: pass in_container = 1 for elements). Bounded by
 * TLF_THR_MAX_DEPTH. */
TL_WUR int tlf_thr_skip(tlf_thr_reader *r, int type, int in_container,
                        tl_error *err);

/* ---- writer ---------------------------------------------------------------- */

/* Appends to out. The first failure (TL_ENOMEM, or TL_EINVAL for a field id
 * not increasing in a way the encoding can express, or depth overflow) is
 * sticky: later calls do nothing and tlf_thr_writer_status returns it. */
typedef struct tlf_thr_writer {
    tlf_buf *out;
    tl_error *err;
    int rc;
    int n_fid;
    int16_t last_fid[TLF_THR_MAX_DEPTH + 1];
} tlf_thr_writer;

void tlf_thr_writer_init(tlf_thr_writer *w, tlf_buf *out, tl_error *err);
static inline int tlf_thr_writer_status(const tlf_thr_writer *w)
{
    return w->rc;
}

int tlf_thr_w_struct_begin(tlf_thr_writer *w);
int tlf_thr_w_struct_end(tlf_thr_writer *w); /* writes STOP */
/* Field header (short form when 1 <= fid - previous <= 15). For bool
 * fields use tlf_thr_w_field_bool. */
int tlf_thr_w_field(tlf_thr_writer *w, int16_t fid, int type);
int tlf_thr_w_field_bool(tlf_thr_writer *w, int16_t fid, int v);
int tlf_thr_w_field_byte(tlf_thr_writer *w, int16_t fid, int8_t v);
int tlf_thr_w_field_i16(tlf_thr_writer *w, int16_t fid, int16_t v);
int tlf_thr_w_field_i32(tlf_thr_writer *w, int16_t fid, int32_t v);
int tlf_thr_w_field_i64(tlf_thr_writer *w, int16_t fid, int64_t v);
int tlf_thr_w_field_double(tlf_thr_writer *w, int16_t fid, double v);
int tlf_thr_w_field_binary(tlf_thr_writer *w, int16_t fid, const void *p,
                           uint32_t len);
/* Values (list elements, or after tlf_thr_w_field). */
int tlf_thr_w_varint(tlf_thr_writer *w, uint64_t v);
int tlf_thr_w_byte(tlf_thr_writer *w, int8_t v);
int tlf_thr_w_i16(tlf_thr_writer *w, int16_t v);
int tlf_thr_w_i32(tlf_thr_writer *w, int32_t v);
int tlf_thr_w_i64(tlf_thr_writer *w, int64_t v);
int tlf_thr_w_double(tlf_thr_writer *w, double v);
int tlf_thr_w_binary(tlf_thr_writer *w, const void *p, uint32_t len);
int tlf_thr_w_bool_elem(tlf_thr_writer *w, int v); /* 1 or 2 */
/* List header; elem_type TLF_THR_TRUE for bool lists. */
int tlf_thr_w_list_begin(tlf_thr_writer *w, int elem_type, uint32_t n);

#endif /* TL_PQ_THRIFT_H */
