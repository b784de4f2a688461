/* hotpe: the bounded reader (see reader.h). */
#include <string.h>

#include "hotpe/pe/reader.h"

hp_status hp_rd_bytes(const hp_rd *rd, uint64_t off, size_t n, void *out)
{
    if (!hp_range_ok(off, n, rd->size))
        return HP_E_BOUNDS;
    if (n)
        memcpy(out, rd->data + off, n);
    return HP_OK;
}

hp_status hp_rd_uint(const hp_rd *rd, uint64_t off, unsigned width, uint64_t *out)
{
    uint8_t b[8];
    uint64_t v = 0;
    if (width != 1 && width != 2 && width != 4 && width != 8)
        return HP_E_ARG;
    HP_CHECK(hp_rd_bytes(rd, off, width, b));
    for (unsigned i = width; i-- > 0;)
        v = (v << 8) | b[i];
    *out = v;
    return HP_OK;
}

#define HP_RD_FIXED(fn, type, width)                                  \
    hp_status fn(const hp_rd *rd, uint64_t off, type *out)            \
    {                                                                 \
        uint64_t v;                                                   \
        HP_CHECK(hp_rd_uint(rd, off, width, &v));                     \
        *out = (type)v;                                               \
        return HP_OK;                                                 \
    }
HP_RD_FIXED(hp_rd_u8, uint8_t, 1)
HP_RD_FIXED(hp_rd_u16, uint16_t, 2)
HP_RD_FIXED(hp_rd_u32, uint32_t, 4)
HP_RD_FIXED(hp_rd_u64, uint64_t, 8)
#undef HP_RD_FIXED

hp_status hp_rd_sub(const hp_rd *rd, uint64_t off, uint64_t n, hp_rd *out)
{
    if (!hp_range_ok(off, n, rd->size))
        return HP_E_BOUNDS;
    out->data = rd->data + off;
    out->size = (size_t)n;
    return HP_OK;
}

hp_status hp_rd_strlen(const hp_rd *rd, uint64_t off, size_t max, size_t *len)
{
    if (off >= rd->size)
        return HP_E_BOUNDS;
    size_t avail = rd->size - (size_t)off;
    if (avail > max)
        avail = max;
    const uint8_t *nul = memchr(rd->data + off, 0, avail);
    if (!nul)
        return HP_E_BOUNDS;
    *len = (size_t)(nul - (rd->data + off));
    return HP_OK;
}
