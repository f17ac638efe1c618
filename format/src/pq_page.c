/*
 * pq_page.c - Parquet page encodings (stub; implementation follows).
 */
#include "pq_page.h"

#define STUB(...) return tl_error_set(err, TL_EUNSUPPORTED, "pq_page: not implemented yet")

int tlf_pq_hybrid_decode32(const uint8_t *src, size_t len, unsigned bw, uint32_t *out, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)bw; (void)out; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_hybrid_decode8(const uint8_t *src, size_t len, unsigned bw, uint8_t *out, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)bw; (void)out; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_hybrid_decode_bits(const uint8_t *src, size_t len, uint8_t *bm, uint64_t bit0, size_t n, uint64_t *n_set, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)bm; (void)bit0; (void)n; (void)n_set; (void)off0; (void)consumed; STUB(); }
int tlf_pq_levels_v1(const uint8_t *src, size_t len, unsigned bw, uint8_t *out, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)bw; (void)out; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_levels_v2(const uint8_t *src, size_t len, unsigned bw, uint8_t *out, size_t n, size_t off0, tl_error *err)
{ (void)src; (void)len; (void)bw; (void)out; (void)n; (void)off0; STUB(); }
int tlf_pq_levels_v1_bits(const uint8_t *src, size_t len, uint8_t *bm, uint64_t bit0, size_t n, uint64_t *n_set, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)bm; (void)bit0; (void)n; (void)n_set; (void)off0; (void)consumed; STUB(); }
int tlf_pq_levels_v2_bits(const uint8_t *src, size_t len, uint8_t *bm, uint64_t bit0, size_t n, uint64_t *n_set, size_t off0, tl_error *err)
{ (void)src; (void)len; (void)bm; (void)bit0; (void)n; (void)n_set; (void)off0; STUB(); }
int tlf_pq_dict_indices(const uint8_t *src, size_t len, uint32_t *out, size_t n, uint32_t dict_size, size_t off0, tl_error *err)
{ (void)src; (void)len; (void)out; (void)n; (void)dict_size; (void)off0; STUB(); }
unsigned tlf_pq_bit_width(uint64_t max_value) { return max_value ? 64u - (unsigned)__builtin_clzll(max_value) : 0u; }
size_t tlf_pq_hybrid_bound(size_t n, unsigned bw) { return (n / 8 + 1) * (bw + 5) + 16; }
size_t tlf_pq_hybrid_encode32(const uint32_t *v, size_t n, unsigned bw, uint8_t *dst) { (void)v; (void)n; (void)bw; (void)dst; return 0; }
size_t tlf_pq_hybrid_encode8(const uint8_t *v, size_t n, unsigned bw, uint8_t *dst) { (void)v; (void)n; (void)bw; (void)dst; return 0; }
size_t tlf_pq_hybrid_encode_bits(const uint8_t *bm, uint64_t bit0, size_t n, uint8_t *dst) { (void)bm; (void)bit0; (void)n; (void)dst; return 0; }
void tlf_pq_bitpack32(const uint32_t *v, size_t n, unsigned bw, uint8_t *dst) { (void)v; (void)n; (void)bw; (void)dst; }
void tlf_pq_bitunpack32(const uint8_t *src, size_t n, unsigned bw, uint32_t *out) { (void)src; (void)n; (void)bw; (void)out; }
int tlf_pq_plain_fixed(const uint8_t *src, size_t len, size_t width, void *out, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)width; (void)out; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_plain_bool(const uint8_t *src, size_t len, uint8_t *out, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)out; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_plain_byte_array(const uint8_t *src, size_t len, uint32_t *offs, uint32_t base, uint8_t *data, size_t data_cap, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)offs; (void)base; (void)data; (void)data_cap; (void)n; (void)off0; (void)consumed; STUB(); }
size_t tlf_pq_plain_byte_array_encode(const uint32_t *offs, const uint8_t *data, size_t n, uint8_t *dst) { (void)offs; (void)data; (void)n; (void)dst; return 0; }
size_t tlf_pq_plain_bool_encode(const uint8_t *v, size_t n, uint8_t *dst) { (void)v; (void)n; (void)dst; return 0; }
int tlf_pq_delta_decode32(const uint8_t *src, size_t len, int32_t *out, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)out; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_delta_decode64(const uint8_t *src, size_t len, int64_t *out, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)out; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_delta_count(const uint8_t *src, size_t len, uint64_t *total, size_t off0, tl_error *err)
{ (void)src; (void)len; (void)total; (void)off0; STUB(); }
int tlf_pq_delta_length_decode(const uint8_t *src, size_t len, uint32_t *offs, uint32_t base, uint8_t *data, size_t data_cap, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)offs; (void)base; (void)data; (void)data_cap; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_delta_byte_array_size(const uint8_t *src, size_t len, size_t n, uint64_t *data_bytes, size_t off0, tl_error *err)
{ (void)src; (void)len; (void)n; (void)data_bytes; (void)off0; STUB(); }
int tlf_pq_delta_byte_array_decode(const uint8_t *src, size_t len, uint32_t *offs, uint32_t base, uint8_t *data, size_t data_cap, size_t n, size_t off0, size_t *consumed, tl_error *err)
{ (void)src; (void)len; (void)offs; (void)base; (void)data; (void)data_cap; (void)n; (void)off0; (void)consumed; STUB(); }
int tlf_pq_bss_decode(const uint8_t *src, size_t len, size_t width, void *out, size_t n, size_t off0, tl_error *err)
{ (void)src; (void)len; (void)width; (void)out; (void)n; (void)off0; STUB(); }
