/*
 * hotpe: the bounded reader, and its twin the bounded writer. All untrusted bytes (image files,
 * process memory copies, patch metadata) are read through hp_rd and nothing else indexes them;
 * every little-endian field we compose (hotpe build's metadata, slots, fixups) is written
 * through hp_wr. Offsets and sizes are 64-bit and every range test is written so that it
 * cannot wrap.
 */
#ifndef HOTPE_READER_H
#define HOTPE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "hotpe/status.h"

/** A read-only view of untrusted bytes. */
typedef struct hp_rd {
    const uint8_t *data;
    size_t size;
} hp_rd;

static inline hp_rd hp_rd_make(const void *data, size_t size)
{
    hp_rd rd = { (const uint8_t *)data, data ? size : 0 };
    return rd;
}

/** True when [off, off+n) lies inside [0, size), without overflow. */
static inline bool hp_range_ok(uint64_t off, uint64_t n, uint64_t size)
{
    return off <= size && n <= size - off;
}

/** a + b into *out; false when it overflows 64 bits. */
static inline bool hp_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/** a * b into *out; false when it overflows 64 bits. */
static inline bool hp_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/** Round v up to a power-of-two alignment; false on overflow. */
static inline bool hp_align_up(uint64_t v, uint64_t align, uint64_t *out)
{
    uint64_t t;
    if (align == 0 || (align & (align - 1)) != 0 || !hp_add_u64(v, align - 1, &t))
        return false;
    *out = t & ~(align - 1);
    return true;
}

/* Each read returns HP_OK or HP_E_BOUNDS and writes *out only on success. */
hp_status hp_rd_bytes(const hp_rd *rd, uint64_t off, size_t n, void *out);
hp_status hp_rd_u8(const hp_rd *rd, uint64_t off, uint8_t *out);
hp_status hp_rd_u16(const hp_rd *rd, uint64_t off, uint16_t *out);
hp_status hp_rd_u32(const hp_rd *rd, uint64_t off, uint32_t *out);
hp_status hp_rd_u64(const hp_rd *rd, uint64_t off, uint64_t *out);
/** Little-endian unsigned of width 1, 2, 4 or 8 bytes, zero-extended. */
hp_status hp_rd_uint(const hp_rd *rd, uint64_t off, unsigned width, uint64_t *out);
/** A sub-view of [off, off+n). */
hp_status hp_rd_sub(const hp_rd *rd, uint64_t off, uint64_t n, hp_rd *out);
/** Length of the NUL-terminated string at off; the NUL must lie within max bytes and the view. */
hp_status hp_rd_strlen(const hp_rd *rd, uint64_t off, size_t max, size_t *len);

/*
 * Read one field of an on-disk structure declared in format.h, at base + offsetof(type, field),
 * into a uint64_t. Keeps field reads tied to the layouts that format.h checks at compile time.
 */
#define HP_RD_FIELD(rd, base, type, field, out) \
    hp_rd_uint((rd), (uint64_t)(base) + offsetof(type, field), sizeof(((type *)0)->field), (out))

/** A writable view of bytes we compose. */
typedef struct hp_wr {
    uint8_t *data;
    size_t size;
} hp_wr;

static inline hp_wr hp_wr_make(void *data, size_t size)
{
    hp_wr wr = { (uint8_t *)data, data ? size : 0 };
    return wr;
}

/* Each write returns HP_OK or HP_E_BOUNDS and changes nothing on failure. */
hp_status hp_wr_bytes(const hp_wr *wr, uint64_t off, const void *src, size_t n);
/** Little-endian v in width 1, 2, 4 or 8 bytes (the low bytes of v). */
hp_status hp_wr_uint(const hp_wr *wr, uint64_t off, unsigned width, uint64_t v);
hp_status hp_wr_u16(const hp_wr *wr, uint64_t off, uint16_t v);
hp_status hp_wr_u32(const hp_wr *wr, uint64_t off, uint32_t v);
hp_status hp_wr_u64(const hp_wr *wr, uint64_t off, uint64_t v);
/** A pointer-sized value: 8 bytes when x64, else the low 4. */
hp_status hp_wr_ptr(const hp_wr *wr, uint64_t off, bool x64, uint64_t v);

/** Write one field of a format.h layout at base + offsetof(type, field). */
#define HP_WR_FIELD(wr, base, type, field, v)                                      \
    hp_wr_uint((wr), (uint64_t)(base) + offsetof(type, field), sizeof(((type *)0)->field), \
               (uint64_t)(v))

#endif
