/*
 * version.c - library and format version strings.
 */
#include "ticklake.h"
#include "tl_format.h"

#define TL_STR2(x) #x
#define TL_STR(x) TL_STR2(x)

const char *tl_version(void)
{
    return TL_VERSION_STRING;
}

const char *tl_format_version(void)
{
    return TL_STR(TLF_VERSION_MAJOR) "." TL_STR(TLF_VERSION_MINOR);
}
