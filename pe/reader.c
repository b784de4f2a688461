/* hotpe: the bounded reader and writer (see reader.h). */
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

hp_status hp_wr_bytes(const hp_wr *wr, uint64_t off, const void *src, size_t n)
{
    if (!hp_range_ok(off, n, wr->size))
        return HP_E_BOUNDS;
    if (n)
        memcpy(wr->data + off, src, n);
    return HP_OK;
}

hp_status hp_wr_uint(const hp_wr *wr, uint64_t off, unsigned width, uint64_t v)
{
    uint8_t b[8];
    if (width != 1 && width != 2 && width != 4 && width != 8)
        return HP_E_ARG;
    for (unsigned i = 0; i < width; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return hp_wr_bytes(wr, off, b, width);
}

hp_status hp_wr_u16(const hp_wr *wr, uint64_t off, uint16_t v)
{
    return hp_wr_uint(wr, off, 2, v);
}

hp_status hp_wr_u32(const hp_wr *wr, uint64_t off, uint32_t v)
{
    return hp_wr_uint(wr, off, 4, v);
}

hp_status hp_wr_u64(const hp_wr *wr, uint64_t off, uint64_t v)
{
    return hp_wr_uint(wr, off, 8, v);
}

hp_status hp_wr_ptr(const hp_wr *wr, uint64_t off, bool x64, uint64_t v)
{
    return hp_wr_uint(wr, off, x64 ? 8 : 4, v);
}
