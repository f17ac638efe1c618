/*
 * xxh_int.h - the checksum of segment blocks and footers: XXH3-64, seed 0.
 */
#ifndef TLF_XXH_INT_H
#define TLF_XXH_INT_H

#include <stddef.h>
#include <stdint.h>

/* XXH3_64bits(p, n): the same value as libxxhash's, computed by code
 * compiled with this project's flags (xxh.c). */
uint64_t tlf_xxh3(const void *p, size_t n);

#endif
