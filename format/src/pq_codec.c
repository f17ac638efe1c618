/*
 * pq_codec.c - Parquet page compression codecs (stub; implementation follows).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pq_page.h"

struct tlf_pq_codec_ctx { int unused; };

tlf_pq_codec_ctx *tlf_pq_codec_ctx_new(void) { return calloc(1, sizeof(tlf_pq_codec_ctx)); }
void tlf_pq_codec_ctx_free(tlf_pq_codec_ctx *ctx) { free(ctx); }

int tlf_pq_decompress(tlf_pq_codec_ctx *ctx, int codec, const uint8_t *src, size_t src_len, uint8_t *dst, size_t expected_len, tl_error *err)
{
    (void)ctx;
    if (codec == TL_PQ_UNCOMPRESSED) {
        if (src_len != expected_len)
            return tl_error_set(err, TL_ECORRUPT, "uncompressed page: %zu bytes, expected %zu", src_len, expected_len);
        if (src_len)
            memcpy(dst, src, src_len);
        return TL_OK;
    }
    return tl_error_set(err, TL_EUNSUPPORTED, "codec %s: not implemented yet", tl_pq_codec_name(codec));
}

size_t tlf_pq_codec_bound(int codec, size_t src_len) { return codec == TL_PQ_UNCOMPRESSED ? src_len : 0; }

int tlf_pq_compress(tlf_pq_codec_ctx *ctx, int codec, int level, const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_cap, size_t *out_len, tl_error *err)
{
    (void)ctx; (void)level;
    if (codec == TL_PQ_UNCOMPRESSED && dst_cap >= src_len) {
        if (src_len)
            memcpy(dst, src, src_len);
        *out_len = src_len;
        return TL_OK;
    }
    return tl_error_set(err, TL_EUNSUPPORTED, "codec %s: not implemented yet", tl_pq_codec_name(codec));
}

uint32_t tlf_pq_crc32(uint32_t crc, const void *p, size_t n)
{
    return (uint32_t)crc32_z(crc, (const Bytef *)p, n);
}

static const char *const codec_names[] = {"uncompressed", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw"};

const char *tl_pq_codec_name(int codec)
{
    if (codec < 0 || codec > 7)
        return "?";
    return codec_names[codec];
}

int tl_pq_codec_parse(const char *name, int *out, tl_error *err)
{
    if (name) {
        if (strcmp(name, "none") == 0) { *out = TL_PQ_UNCOMPRESSED; return TL_OK; }
        for (int i = 0; i < 8; i++)
            if (strcmp(name, codec_names[i]) == 0) { *out = i; return TL_OK; }
    }
    return tl_error_set(err, TL_EINVAL, "unknown codec \"%s\" (expected one of uncompressed|none, snappy, gzip, lzo, brotli, lz4, zstd, lz4_raw)", name ? name : "(null)");
}
