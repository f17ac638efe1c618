/*
 * bench_enc.c - encode and decode throughput of the value encodings (enc.h)
 * on realistic tick-like data, block by block (16384 values per block, as
 * the segment writer uses), reusing every buffer. Each figure is the
 * median of REPS timed passes over all blocks after one untimed warm-up
 * ("best" is the fastest pass, less sensitive to other load on the
 * machine). GB/s counts decoded (in-memory) bytes, for encode and decode
 * alike.
 *
 * Usage: bench_enc [n_values [name-filter]] (default 2M values, all cases)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enc.h"
#include "tl_format.h"

#define BLOCK 16384u
#define REPS 9

static uint64_t rng = 12345;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { K_PLAIN, K_FOR, K_DELTA, K_RLE, K_SCALED, K_DICT };

typedef struct bcase {
    const char *name, *type;
    int kind, inner;
    unsigned w;
    int is_signed;
    const void *data; /* n values */
} bcase;

static uint32_t n_total;
static tlf_buf *payloads; /* one per block */
static uint8_t *outbuf;   /* one block of decoded values, reused */
static int64_t *kbuf;     /* SCALED k scratch, reused */

static void die(const char *what, const tl_error *err)
{
    fprintf(stderr, "bench_enc: %s: %s\n", what, err->msg);
    exit(1);
}

static void encode_all(const bcase *c)
{
    tl_error err;
    uint32_t nb = (n_total + BLOCK - 1) / BLOCK;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t n = n_total - b * BLOCK < BLOCK ? n_total - b * BLOCK : BLOCK;
        const uint8_t *v = (const uint8_t *)c->data + (size_t)b * BLOCK * c->w;
        tlf_buf *o = &payloads[b];
        o->len = 0;
        int rc = TL_OK;
        switch (c->kind) {
        case K_PLAIN: rc = tlf_buf_append(o, v, (size_t)n * c->w, &err); break;
        case K_FOR: rc = tlf_for_encode(v, n, c->w, c->is_signed, o, &err); break;
        case K_DELTA: rc = tlf_delta_encode(v, n, c->w, c->is_signed, o, &err); break;
        case K_RLE: rc = tlf_rle_encode(v, n, c->w, o, &err); break;
        case K_DICT: rc = tlf_dict_encode((const uint32_t *)(const void *)v, n, 1024, o, &err); break;
        default: {
            uint64_t div;
            if (!tlf_scaled_find(v, n, c->w, kbuf, &div)) {
                fprintf(stderr, "bench_enc: %s not on a decimal grid\n", c->name);
                exit(1);
            }
            rc = tlf_scaled_encode(kbuf, n, div, c->inner, o, &err);
        }
        }
        if (rc)
            die("encode", &err);
    }
}

static void decode_all(const bcase *c)
{
    tl_error err;
    uint32_t nb = (n_total + BLOCK - 1) / BLOCK;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t n = n_total - b * BLOCK < BLOCK ? n_total - b * BLOCK : BLOCK;
        const tlf_buf *p = &payloads[b];
        int rc = TL_OK;
        switch (c->kind) {
        case K_PLAIN: memcpy(outbuf, p->p, (size_t)n * c->w); break;
        case K_FOR: rc = tlf_for_decode(p->p, p->len, n, c->w, c->is_signed, outbuf, &err); break;
        case K_DELTA: rc = tlf_delta_decode(p->p, p->len, n, c->w, c->is_signed, outbuf, &err); break;
        case K_RLE: rc = tlf_rle_decode(p->p, p->len, n, c->w, outbuf, &err); break;
        case K_DICT: rc = tlf_dict_decode_codes(p->p, p->len, n, 1024, (uint32_t *)(void *)outbuf, &err); break;
        default: rc = tlf_scaled_decode(p->p, p->len, n, c->w, outbuf, NULL, &err); break;
        }
        if (rc)
            die("decode", &err);
        /* keep the compiler from dropping work */
        __asm__ volatile("" : : "r"(outbuf) : "memory");
    }
}

static double best_t;

static double median_time(void (*fn)(const bcase *), const bcase *c)
{
    double t[REPS];
    fn(c); /* warm-up */
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        fn(c);
        t[r] = now() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmpd);
    best_t = t[0];
    return t[REPS / 2];
}

static void run(const bcase *c)
{
    double te = median_time(encode_all, c);
    double td = median_time(decode_all, c), tdb = best_t;
    uint32_t nb = (n_total + BLOCK - 1) / BLOCK;
    size_t stored = 0;
    for (uint32_t b = 0; b < nb; b++)
        stored += payloads[b].len;
    double bytes = (double)n_total * c->w;
    printf("%-26s %-8s %7.2f %7.1f %9.2f %9.2f %9.0f %9.2f\n", c->name, c->type,
           (double)stored / n_total, bytes / (double)stored, bytes / te / 1e9,
           bytes / td / 1e9, n_total / td / 1e6, bytes / tdb / 1e9);
}

int main(int argc, char **argv)
{
    n_total = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2u << 20;
    uint32_t nb = (n_total + BLOCK - 1) / BLOCK;
    payloads = calloc(nb, sizeof *payloads);
    outbuf = malloc((size_t)BLOCK * 8);
    kbuf = malloc((size_t)BLOCK * 8);
    double *price = malloc((size_t)n_total * 8);
    float *strike = malloc((size_t)n_total * 4);
    int64_t *ts = malloc((size_t)n_total * 8);
    int64_t *vol = malloc((size_t)n_total * 8);
    int32_t *qty = malloc((size_t)n_total * 4);
    int32_t *key = malloc((size_t)n_total * 4);
    double *keyf = malloc((size_t)n_total * 8);
    int64_t *plain = malloc((size_t)n_total * 8);
    uint32_t *codes = malloc((size_t)n_total * 4);
    if (!payloads || !outbuf || !kbuf || !price || !strike || !ts || !vol ||
        !qty || !key || !keyf || !plain || !codes) {
        fprintf(stderr, "bench_enc: out of memory\n");
        return 1;
    }
    /* random-walk price on a 0.05 grid (k/20), ticks of -3..+3 */
    int64_t t = 20 * 45000, tsv = 1700000000000000000ll, cv = 0;
    uint32_t run_left = 0;
    int32_t kv = 0;
    for (uint32_t i = 0; i < n_total; i++) {
        t += (int64_t)(rnd() % 7) - 3;
        price[i] = (double)t / 20.0;
        strike[i] = (float)(40000 + 100 * (int)(rnd() % 60));
        tsv += (int64_t)(rnd() % 2000000); /* up to 2 ms between ticks */
        ts[i] = tsv;
        if (rnd() % 100000 == 0)
            cv = 0;
        cv += (int64_t)(rnd() % 40) * 25;
        vol[i] = cv;
        qty[i] = (int32_t)(rnd() % 200) * 25;
        if (run_left == 0) {
            kv += 1 + (int32_t)(rnd() % 3);
            run_left = 200 + (uint32_t)(rnd() % 800);
        }
        run_left--;
        key[i] = kv;
        keyf[i] = 40000.0 + 100.0 * kv;
        plain[i] = (int64_t)rnd();
        codes[i] = (uint32_t)(rnd() % 538);
    }
    const bcase cases[] = {
        {"plain copy (reference)", "int64", K_PLAIN, 0, 8, 1, plain},
        {"scaled/for price", "float64", K_SCALED, TLF_ENC_FOR, 8, 1, price},
        {"scaled/delta price", "float64", K_SCALED, TLF_ENC_DELTA, 8, 1, price},
        {"scaled/plain price", "float64", K_SCALED, TLF_ENC_PLAIN, 8, 1, price},
        {"scaled/for strike", "float32", K_SCALED, TLF_ENC_FOR, 4, 1, strike},
        {"delta timestamp", "int64", K_DELTA, 0, 8, 1, ts},
        {"for timestamp", "int64", K_FOR, 0, 8, 1, ts},
        {"for volume (cumulative)", "int64", K_FOR, 0, 8, 1, vol},
        {"delta volume (cumulative)", "int64", K_DELTA, 0, 8, 1, vol},
        {"for qty", "int32", K_FOR, 0, 4, 1, qty},
        {"rle sorted key", "int32", K_RLE, 0, 4, 1, key},
        {"rle sorted key", "float64", K_RLE, 0, 8, 1, keyf},
        {"scaled/rle sorted key", "float64", K_SCALED, TLF_ENC_RLE, 8, 1, keyf},
        {"dict codes (538 entries)", "uint32", K_DICT, 0, 4, 0, codes},
    };
    printf("bench_enc: %u values in blocks of %u, median of %d runs\n", n_total, BLOCK, REPS);
    printf("%-26s %-8s %7s %7s %9s %9s %9s %9s\n", "encoding / column", "type", "B/value",
           "ratio", "enc GB/s", "dec GB/s", "dec Mv/s", "best dec");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (argc < 3 || strstr(cases[i].name, argv[2]))
            run(&cases[i]);
    for (uint32_t b = 0; b < nb; b++)
        tlf_buf_free(&payloads[b]);
    free(payloads), free(outbuf), free(kbuf), free(price), free(strike), free(ts);
    free(vol), free(qty), free(key), free(keyf), free(plain), free(codes);
    return 0;
}
