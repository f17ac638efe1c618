/*
 * types.c - names and widths of the column types of tl_types.h.
 */
#include "tl_types.h"
#include "tl_error.h"

#include <string.h>

static const struct {
    const char *name;
    size_t width;
} type_tab[TL_TYPE_MAX + 1] = {
    [TL_BOOL] = {"bool", 1},       [TL_INT8] = {"int8", 1},
    [TL_INT16] = {"int16", 2},     [TL_INT32] = {"int32", 4},
    [TL_INT64] = {"int64", 8},     [TL_UINT8] = {"uint8", 1},
    [TL_UINT16] = {"uint16", 2},   [TL_UINT32] = {"uint32", 4},
    [TL_UINT64] = {"uint64", 8},   [TL_FLOAT32] = {"float32", 4},
    [TL_FLOAT64] = {"float64", 8}, [TL_TIMESTAMP] = {"timestamp", 8},
    [TL_DATE] = {"date", 4},       [TL_STRING] = {"string", 0},
    [TL_TIMESTAMP_US] = {"timestamp_us", 8},
};

const char *tl_type_name(int type)
{
    return (type >= 1 && type <= TL_TYPE_MAX) ? type_tab[type].name : NULL;
}

int tl_type_from_name(const char *name, tl_type *out)
{
    for (int t = 1; t <= TL_TYPE_MAX; t++) {
        if (name && strcmp(name, type_tab[t].name) == 0) {
            *out = (tl_type)t;
            return TL_OK;
        }
    }
    return TL_EINVAL;
}

size_t tl_type_width(int type)
{
    return (type >= 1 && type <= TL_TYPE_MAX) ? type_tab[type].width : 0;
}

int tl_type_is_signed_int(int type)
{
    return type == TL_INT8 || type == TL_INT16 || type == TL_INT32 ||
           type == TL_INT64 || type == TL_TIMESTAMP || type == TL_DATE ||
           type == TL_TIMESTAMP_US;
}

int tl_type_is_unsigned_int(int type)
{
    return type == TL_BOOL || type == TL_UINT8 || type == TL_UINT16 ||
           type == TL_UINT32 || type == TL_UINT64;
}

int tl_type_is_float(int type)
{
    return type == TL_FLOAT32 || type == TL_FLOAT64;
}
