/*
 * pq_codec.c - Parquet page compression (parquet-format Compression.md),
 * the page CRC and the codec names of tl_parquet.h. API: pq_page.h.
 *
 * Decompression always targets exactly the size the page header declares
 * (uncompressed_page_size): output that would be longer or shorter is
 * TL_ECORRUPT, so no codec can write past the caller's buffer or leave part
 * of it undefined. Per codec:
 *   UNCOMPRESSED  src_len must equal the expected size.
 *   SNAPPY        raw snappy block; its varint preamble (the uncompressed
 *                 length) is checked before decoding.
 *   GZIP          RFC 1952 members, possibly several back to back (their
 *                 outputs concatenate); a zlib (RFC 1950) stream is
 *                 accepted too.
 *   BROTLI        one RFC 7932 stream, no trailing bytes.
 *   ZSTD          RFC 8878 frames back to back; a frame content size
 *                 larger than expected is refused before decoding.
 *   LZ4_RAW       one LZ4 block (no framing).
 *   LZ4 (5)       deprecated: Hadoop framing (repeated: u32 big-endian
 *                 uncompressed size, then blocks of u32 big-endian
 *                 compressed size + LZ4 block), else an LZ4 frame (magic
 *                 04 22 4D 18), else one raw LZ4 block - the fallbacks
 *                 other readers apply to what old writers produced.
 *   LZO           TL_EUNSUPPORTED.
 * Empty input with an expected size of 0 is accepted for every codec
 * (writers emit empty v2 pages without running the compressor).
 * CRC: standard CRC-32 (zlib crc32, polynomial 0xEDB88320 reflected,
 * init/xorout 0xFFFFFFFF) of the page bytes after the header, as stored.
 */
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "pq_page.h"

struct tlf_pq_codec_ctx {
    ZSTD_DCtx *zd;
    ZSTD_CCtx *zc;
    z_stream inf;
    int inf_ok;
};

tlf_pq_codec_ctx *tlf_pq_codec_ctx_new(void)
{
    return calloc(1, sizeof(tlf_pq_codec_ctx));
}

void tlf_pq_codec_ctx_free(tlf_pq_codec_ctx *ctx)
{
    if (!ctx)
        return;
    ZSTD_freeDCtx(ctx->zd);
    ZSTD_freeCCtx(ctx->zc);
    if (ctx->inf_ok)
        inflateEnd(&ctx->inf);
    free(ctx);
}

static const char *const codec_names[] = {
    "uncompressed", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw",
};

const char *tl_pq_codec_name(int codec)
{
    if (codec < 0 || codec > 7)
        return "?";
    return codec_names[codec];
}

int tl_pq_codec_parse(const char *name, int *out, tl_error *err)
{
    if (name) {
        if (strcmp(name, "none") == 0) {
            *out = TL_PQ_UNCOMPRESSED;
            return TL_OK;
        }
        for (int i = 0; i < 8; i++) {
            if (strcmp(name, codec_names[i]) == 0) {
                *out = i;
                return TL_OK;
            }
        }
    }
    return tl_error_set(err, TL_EINVAL,
                        "unknown codec \"%s\" (expected uncompressed, none, "
                        "snappy, gzip, lzo, brotli, lz4, zstd or lz4_raw)",
                        name ? name : "(null)");
}

uint32_t tlf_pq_crc32(uint32_t crc, const void *p, size_t n)
{
    return (uint32_t)crc32_z(crc, (const Bytef *)p, n);
}

/* ---- decompression ---------------------------------------------------- */

static int size_err(tl_error *err, const char *codec, const char *how,
                    size_t got, size_t want)
{
    return tl_error_set(err, TL_ECORRUPT,
                        "%s: decompressed size %s%zu bytes, the page header "
                        "declares %zu",
                        codec, how, got, want);
}

static int de_snappy(const uint8_t *src, size_t n, uint8_t *dst, size_t want,
                     tl_error *err)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK)
        return tl_error_set(err, TL_ECORRUPT,
                            "snappy: malformed length preamble in %zu "
                            "compressed bytes",
                            n);
    if (ulen != want)
        return size_err(err, "snappy", "", ulen, want);
    size_t out = want;
    if (snappy_uncompress((const char *)src, n, (char *)dst, &out) !=
            SNAPPY_OK ||
        out != want)
        return tl_error_set(err, TL_ECORRUPT,
                            "snappy: malformed compressed data (%zu bytes, "
                            "%zu expected out)",
                            n, want);
    return TL_OK;
}

static int de_gzip(tlf_pq_codec_ctx *ctx, const uint8_t *src, size_t n,
                   uint8_t *dst, size_t want, tl_error *err)
{
    z_stream local, *z;
    if (ctx) {
        z = &ctx->inf;
        if (!ctx->inf_ok) {
            memset(z, 0, sizeof *z);
            if (inflateInit2(z, 15 + 32) != Z_OK)
                return tl_error_set(err, TL_ENOMEM, "gzip: inflateInit2 failed");
            ctx->inf_ok = 1;
        } else if (inflateReset(z) != Z_OK) {
            return tl_error_set(err, TL_ENOMEM, "gzip: inflateReset failed");
        }
    } else {
        z = &local;
        memset(z, 0, sizeof *z);
        if (inflateInit2(z, 15 + 32) != Z_OK)
            return tl_error_set(err, TL_ENOMEM, "gzip: inflateInit2 failed");
    }
    /* zlib counts in uInt: feed at most UINT_MAX at a time */
    size_t in_left = n, out_left = want;
    const uint8_t *ip = src;
    uint8_t *op = dst;
    unsigned members = 1;
    int rc = TL_OK;
    for (;;) {
        uInt ai = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        uInt ao = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        uint8_t spare;
        int probing = ao == 0; /* output full: does the stream want more? */
        z->next_in = (Bytef *)(uintptr_t)ip;
        z->avail_in = ai;
        z->next_out = probing ? &spare : op;
        z->avail_out = probing ? 1 : ao;
        int zr = inflate(z, Z_NO_FLUSH);
        size_t used_in = ai - z->avail_in;
        size_t made = (probing ? 1 : ao) - z->avail_out;
        ip += used_in;
        in_left -= used_in;
        if (probing && made) {
            rc = tl_error_set(err, TL_ECORRUPT,
                              "gzip: member %u decompresses past the %zu "
                              "bytes the page header declares",
                              members, want);
            break;
        }
        op += made;
        out_left -= made;
        if (zr == Z_STREAM_END) {
            if (in_left == 0)
                break;
            /* another member follows */
            members++;
            if (inflateReset(z) != Z_OK) {
                rc = tl_error_set(err, TL_ENOMEM, "gzip: inflateReset failed");
                break;
            }
            continue;
        }
        if (zr == Z_OK && (used_in || made))
            continue;
        if (zr == Z_OK || zr == Z_BUF_ERROR) {
            if (in_left == 0)
                rc = tl_error_set(err, TL_ECORRUPT,
                                  "gzip: member %u is truncated after %zu "
                                  "compressed bytes (%zu of %zu bytes out)",
                                  members, n, want - out_left, want);
            else
                rc = tl_error_set(err, TL_ECORRUPT,
                                  "gzip: member %u decompresses past the %zu "
                                  "bytes the page header declares",
                                  members, want);
            break;
        }
        rc = tl_error_set(err, zr == Z_MEM_ERROR ? TL_ENOMEM : TL_ECORRUPT,
                          "gzip: member %u: %s at compressed byte %zu",
                          members, z->msg ? z->msg : "malformed data",
                          (size_t)(ip - src));
        break;
    }
    if (!ctx)
        inflateEnd(z);
    if (rc == TL_OK && out_left)
        return size_err(err, "gzip", "", want - out_left, want);
    return rc;
}

static int de_zstd(tlf_pq_codec_ctx *ctx, const uint8_t *src, size_t n,
                   uint8_t *dst, size_t want, tl_error *err)
{
    unsigned long long fcs = ZSTD_getFrameContentSize(src, n);
    if (fcs == ZSTD_CONTENTSIZE_ERROR)
        return tl_error_set(err, TL_ECORRUPT,
                            "zstd: not a zstd frame (%zu bytes)", n);
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs > want)
        return tl_error_set(err, TL_ECORRUPT,
                            "zstd: frame declares %llu bytes, the page header "
                            "%zu",
                            fcs, want);
    ZSTD_DCtx *d = ctx ? ctx->zd : NULL;
    if (!d) {
        d = ZSTD_createDCtx();
        if (!d)
            return tl_error_set(err, TL_ENOMEM, "zstd: out of memory");
        if (ctx)
            ctx->zd = d;
    }
    size_t r = ZSTD_decompressDCtx(d, dst, want, src, n);
    if (!ctx)
        ZSTD_freeDCtx(d);
    if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
            return tl_error_set(err, TL_ECORRUPT,
                                "zstd: decompresses past the %zu bytes the "
                                "page header declares",
                                want);
        return tl_error_set(err, TL_ECORRUPT, "zstd: %s (%zu compressed bytes)",
                            ZSTD_getErrorName(r), n);
    }
    if (r != want)
        return size_err(err, "zstd", "", r, want);
    return TL_OK;
}

static int de_lz4_block(const uint8_t *src, size_t n, uint8_t *dst,
                        size_t want, const char *codec, tl_error *err)
{
    if (n > INT_MAX || want > INT_MAX)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "%s: block larger than 2 GiB", codec);
    int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n,
                                (int)want);
    if (r < 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: malformed block or output larger than the %zu "
                            "bytes the page header declares (%zu compressed "
                            "bytes)",
                            codec, want, n);
    if ((size_t)r != want)
        return size_err(err, codec, "", (size_t)r, want);
    return TL_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Hadoop framing; 0 on success, -1 if the bytes do not follow it. */
static int lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst, size_t want)
{
    size_t ip = 0, op = 0;
    if (n < 8)
        return -1;
    while (ip < n) {
        if (n - ip < 4)
            return -1;
        uint32_t chunk = be32(src + ip);
        ip += 4;
        if (chunk > want - op)
            return -1;
        size_t made = 0;
        while (made < chunk) {
            if (n - ip < 4)
                return -1;
            uint32_t c = be32(src + ip);
            ip += 4;
            if (c > n - ip || c > INT_MAX)
                return -1;
            int r = LZ4_decompress_safe((const char *)src + ip,
                                        (char *)dst + op + made, (int)c,
                                        (int)(chunk - made));
            if (r <= 0)
                return -1;
            made += (size_t)r;
            ip += c;
        }
        op += made;
    }
    return op == want ? 0 : -1;
}

static int lz4_frame(const uint8_t *src, size_t n, uint8_t *dst, size_t want,
                     tl_error *err)
{
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return tl_error_set(err, TL_ENOMEM, "lz4: out of memory");
    size_t ip = 0, op = 0;
    int rc = TL_OK;
    for (;;) {
        size_t ai = n - ip, ao = want - op;
        uint8_t spare;
        int probing = ao == 0; /* output full: would the frame give more? */
        if (probing)
            ao = 1;
        size_t r = LZ4F_decompress(d, probing ? &spare : dst + op, &ao,
                                   src + ip, &ai, NULL);
        if (LZ4F_isError(r)) {
            rc = tl_error_set(err, TL_ECORRUPT, "lz4 (frame): %s",
                              LZ4F_getErrorName(r));
            break;
        }
        if (probing && ao) {
            rc = tl_error_set(err, TL_ECORRUPT,
                              "lz4 (frame): decompresses past the %zu bytes "
                              "the page header declares",
                              want);
            break;
        }
        ip += ai;
        if (!probing)
            op += ao;
        if (r == 0 && ip == n)
            break; /* frame(s) complete */
        if (ai == 0 && ao == 0) {
            rc = tl_error_set(err, TL_ECORRUPT,
                              "lz4 (frame): truncated (%zu of %zu bytes out)",
                              op, want);
            break;
        }
    }
    LZ4F_freeDecompressionContext(d);
    if (rc == TL_OK && op != want)
        return size_err(err, "lz4 (frame)", "", op, want);
    return rc;
}

static int de_lz4_legacy(const uint8_t *src, size_t n, uint8_t *dst,
                         size_t want, tl_error *err)
{
    if (lz4_hadoop(src, n, dst, want) == 0)
        return TL_OK;
    if (n >= 4 && src[0] == 0x04 && src[1] == 0x22 && src[2] == 0x4d &&
        src[3] == 0x18)
        return lz4_frame(src, n, dst, want, err);
    int rc = de_lz4_block(src, n, dst, want, "lz4", err);
    if (rc == TL_ECORRUPT)
        tl_error_prefix(err,
                        "lz4 (deprecated codec 5): neither Hadoop framing nor "
                        "an LZ4 frame nor a raw block: ");
    return rc;
}

static int de_brotli(const uint8_t *src, size_t n, uint8_t *dst, size_t want,
                     tl_error *err)
{
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!s)
        return tl_error_set(err, TL_ENOMEM, "brotli: out of memory");
    size_t ai = n, ao = want;
    const uint8_t *ip = src;
    uint8_t *op = dst;
    BrotliDecoderResult r =
        BrotliDecoderDecompressStream(s, &ai, &ip, &ao, &op, NULL);
    int rc = TL_OK;
    if (r == BROTLI_DECODER_RESULT_SUCCESS) {
        if (ai)
            rc = tl_error_set(err, TL_ECORRUPT,
                              "brotli: %zu bytes follow the end of the stream",
                              ai);
        else if (ao)
            rc = size_err(err, "brotli", "", want - ao, want);
    } else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "brotli: decompresses past the %zu bytes the page "
                          "header declares",
                          want);
    } else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "brotli: truncated after %zu compressed bytes (%zu "
                          "of %zu bytes out)",
                          n, want - ao, want);
    } else {
        rc = tl_error_set(
            err, TL_ECORRUPT, "brotli: %s at compressed byte %zu",
            BrotliDecoderErrorString(BrotliDecoderGetErrorCode(s)),
            (size_t)(ip - src));
    }
    BrotliDecoderDestroyInstance(s);
    return rc;
}

int tlf_pq_decompress(tlf_pq_codec_ctx *ctx, int codec, const uint8_t *src,
                      size_t src_len, uint8_t *dst, size_t expected_len,
                      tl_error *err)
{
    if (codec == TL_PQ_LZO || codec < 0 || codec > TL_PQ_LZ4_RAW)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "compression codec %s (%d) is not supported",
                            codec == TL_PQ_LZO ? "LZO" : "unknown", codec);
    if (src_len == 0 && expected_len == 0)
        return TL_OK;
    if (codec != TL_PQ_UNCOMPRESSED && src_len == 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: no compressed bytes for a page of %zu bytes",
                            tl_pq_codec_name(codec), expected_len);
    switch (codec) {
    case TL_PQ_UNCOMPRESSED:
        if (src_len != expected_len)
            return tl_error_set(err, TL_ECORRUPT,
                                "uncompressed page holds %zu bytes, the page "
                                "header declares %zu",
                                src_len, expected_len);
        memcpy(dst, src, src_len);
        return TL_OK;
    case TL_PQ_SNAPPY:
        return de_snappy(src, src_len, dst, expected_len, err);
    case TL_PQ_GZIP:
        return de_gzip(ctx, src, src_len, dst, expected_len, err);
    case TL_PQ_BROTLI:
        return de_brotli(src, src_len, dst, expected_len, err);
    case TL_PQ_ZSTD:
        return de_zstd(ctx, src, src_len, dst, expected_len, err);
    case TL_PQ_LZ4_RAW:
        return de_lz4_block(src, src_len, dst, expected_len, "lz4_raw", err);
    default: /* TL_PQ_LZ4 */
        return de_lz4_legacy(src, src_len, dst, expected_len, err);
    }
}

/* ---- compression ------------------------------------------------------ */

size_t tlf_pq_codec_bound(int codec, size_t src_len)
{
    switch (codec) {
    case TL_PQ_UNCOMPRESSED:
        return src_len;
    case TL_PQ_SNAPPY:
        return snappy_max_compressed_length(src_len);
    case TL_PQ_GZIP:
        /* zlib's bound plus the gzip header/trailer instead of zlib's */
        return (size_t)compressBound((uLong)src_len) + 32;
    case TL_PQ_ZSTD:
        return ZSTD_compressBound(src_len);
    case TL_PQ_LZ4_RAW:
        return src_len > LZ4_MAX_INPUT_SIZE
                   ? 0
                   : (size_t)LZ4_compressBound((int)src_len);
    case TL_PQ_BROTLI:
        return BrotliEncoderMaxCompressedSize(src_len);
    default:
        return 0;
    }
}

static int cap_err(tl_error *err, const char *codec, size_t cap, size_t n)
{
    return tl_error_set(err, TL_EINVAL,
                        "%s: output buffer of %zu bytes is below the bound for "
                        "%zu input bytes",
                        codec, cap, n);
}

static int co_gzip(int level, const uint8_t *src, size_t n, uint8_t *dst,
                   size_t cap, size_t *out_len, tl_error *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level ? level : 6, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return tl_error_set(err, TL_EINVAL, "gzip: bad level %d", level);
    size_t in_left = n, out_left = cap;
    const uint8_t *ip = src;
    uint8_t *op = dst;
    int zr;
    do {
        uInt ai = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        uInt ao = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        z.next_in = (Bytef *)(uintptr_t)ip;
        z.avail_in = ai;
        z.next_out = op;
        z.avail_out = ao;
        zr = deflate(&z, in_left == ai ? Z_FINISH : Z_NO_FLUSH);
        ip += ai - z.avail_in;
        in_left -= ai - z.avail_in;
        op += ao - z.avail_out;
        out_left -= ao - z.avail_out;
        if (zr == Z_BUF_ERROR || (zr == Z_OK && ao == z.avail_out &&
                                  ai == z.avail_in)) {
            deflateEnd(&z);
            return cap_err(err, "gzip", cap, n);
        }
    } while (zr != Z_STREAM_END);
    deflateEnd(&z);
    *out_len = cap - out_left;
    return TL_OK;
}

int tlf_pq_compress(tlf_pq_codec_ctx *ctx, int codec, int level,
                    const uint8_t *src, size_t src_len, uint8_t *dst,
                    size_t dst_cap, size_t *out_len, tl_error *err)
{
    switch (codec) {
    case TL_PQ_UNCOMPRESSED:
        if (dst_cap < src_len)
            return cap_err(err, "uncompressed", dst_cap, src_len);
        if (src_len)
            memcpy(dst, src, src_len);
        *out_len = src_len;
        return TL_OK;
    case TL_PQ_SNAPPY: {
        size_t o = dst_cap;
        if (dst_cap < snappy_max_compressed_length(src_len))
            return cap_err(err, "snappy", dst_cap, src_len);
        if (snappy_compress((const char *)src, src_len, (char *)dst, &o) !=
            SNAPPY_OK)
            return cap_err(err, "snappy", dst_cap, src_len);
        *out_len = o;
        return TL_OK;
    }
    case TL_PQ_GZIP:
        return co_gzip(level, src, src_len, dst, dst_cap, out_len, err);
    case TL_PQ_ZSTD: {
        ZSTD_CCtx *c = ctx ? ctx->zc : NULL;
        if (!c) {
            c = ZSTD_createCCtx();
            if (!c)
                return tl_error_set(err, TL_ENOMEM, "zstd: out of memory");
            if (ctx)
                ctx->zc = c;
        }
        size_t r = ZSTD_compressCCtx(c, dst, dst_cap, src, src_len,
                                     level ? level : 3);
        if (!ctx)
            ZSTD_freeCCtx(c);
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
                return cap_err(err, "zstd", dst_cap, src_len);
            return tl_error_set(err, TL_EINVAL, "zstd: %s (level %d)",
                                ZSTD_getErrorName(r), level);
        }
        *out_len = r;
        return TL_OK;
    }
    case TL_PQ_LZ4_RAW: {
        if (src_len > LZ4_MAX_INPUT_SIZE)
            return tl_error_set(err, TL_EUNSUPPORTED,
                                "lz4_raw: page of %zu bytes is too large",
                                src_len);
        int cap = dst_cap > INT_MAX ? INT_MAX : (int)dst_cap;
        int r = LZ4_compress_default((const char *)src, (char *)dst,
                                     (int)src_len, cap);
        if (r <= 0 && src_len)
            return cap_err(err, "lz4_raw", dst_cap, src_len);
        *out_len = (size_t)(r < 0 ? 0 : r);
        return TL_OK;
    }
    case TL_PQ_BROTLI: {
        size_t o = dst_cap;
        int q = level ? level : 5;
        if (q < BROTLI_MIN_QUALITY || q > BROTLI_MAX_QUALITY)
            return tl_error_set(err, TL_EINVAL, "brotli: bad quality %d",
                                level);
        if (!BrotliEncoderCompress(q, BROTLI_DEFAULT_WINDOW,
                                   BROTLI_MODE_GENERIC, src_len, src, &o,
                                   dst))
            return cap_err(err, "brotli", dst_cap, src_len);
        *out_len = o;
        return TL_OK;
    }
    default:
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "compression codec %s (%d) is not supported for "
                            "writing",
                            tl_pq_codec_name(codec), codec);
    }
}
