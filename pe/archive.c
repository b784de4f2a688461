/* hotpe: static archives, the ar format of .a and .lib files (see coff.h). */
#include "hotpe/pe/coff.h"

#include <string.h>

typedef HP_IMAGE_ARCHIVE_MEMBER_HEADER ah_t;

bool hp_ar_is_archive(const void *data, size_t size)
{
    return data && size >= HP_IMAGE_ARCHIVE_START_SIZE &&
           (memcmp(data, HP_IMAGE_ARCHIVE_START, HP_IMAGE_ARCHIVE_START_SIZE) == 0 ||
            memcmp(data, HP_IMAGE_ARCHIVE_THIN_START, HP_IMAGE_ARCHIVE_START_SIZE) == 0);
}

/* A decimal field: digits, then spaces to its end; at least one digit. */
static bool decimal(const uint8_t *field, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    for (; i < n && field[i] >= '0' && field[i] <= '9'; i++)
        v = v * 10 + (uint64_t)(field[i] - '0'); /* at most 10 digits: no overflow */
    if (i == 0)
        return false;
    for (size_t k = i; k < n; k++)
        if (field[k] != ' ')
            return false;
    *out = v;
    return true;
}

/* A name field equal to word followed by spaces only. */
static bool name_is(const uint8_t name[16], const char *word)
{
    size_t n = strlen(word);
    if (memcmp(name, word, n) != 0)
        return false;
    for (size_t k = n; k < 16; k++)
        if (name[k] != ' ')
            return false;
    return true;
}

/* Bytes of rd from off up to the first stop byte (or NUL), or to its end: *ended says which. */
static size_t span(const hp_rd *rd, uint64_t off, uint8_t stop, bool *ended)
{
    size_t n = 0;
    uint8_t b;
    *ended = true;
    while (hp_rd_u8(rd, off + n, &b) == HP_OK) {
        if (b == stop || b == '\0') {
            *ended = false;
            break;
        }
        n++;
    }
    return n;
}

/* One member as its header says. */
typedef struct raw_member {
    uint8_t name[16];
    uint64_t data_at, data_size;  /* the data, a BSD name excluded */
    uint64_t next;                /* the next header */
    enum { M_OBJECT, M_INDEX, M_NAMES } kind;
    uint64_t bsd_name_len;        /* "#1/N": the name is the data's first N bytes */
} raw_member;

static hp_status read_member(const hp_rd *rd, uint64_t at, raw_member *m)
{
    uint8_t size_field[10], end[2];
    uint64_t size;
    HP_CHECK_AS(hp_rd_bytes(rd, at + offsetof(ah_t, Name), sizeof m->name, m->name), HP_E_AR_HEADER);
    HP_CHECK_AS(hp_rd_bytes(rd, at + offsetof(ah_t, Size), sizeof size_field, size_field),
                HP_E_AR_HEADER);
    HP_CHECK_AS(hp_rd_bytes(rd, at + offsetof(ah_t, EndHeader), sizeof end, end), HP_E_AR_HEADER);
    if (end[0] != '`' || end[1] != '\n' || !decimal(size_field, sizeof size_field, &size))
        return HP_E_AR_HEADER;
    m->data_at = at + sizeof(ah_t);
    if (!hp_range_ok(m->data_at, size, rd->size))
        return HP_E_AR_HEADER;
    m->data_size = size;
    /* Members start at even offsets: a 1-byte pad follows odd data. */
    m->next = m->data_at + size + (size & 1);
    m->bsd_name_len = 0;
    if (name_is(m->name, "/") || name_is(m->name, "/SYM64/") || name_is(m->name, "/SYM/") ||
        name_is(m->name, "__.SYMDEF") || name_is(m->name, "__.SYMDEF SORTED")) {
        m->kind = M_INDEX;
    } else if (name_is(m->name, "//")) {
        m->kind = M_NAMES;
    } else {
        m->kind = M_OBJECT;
        if (memcmp(m->name, "#1/", 3) == 0) {
            if (!decimal(m->name + 3, sizeof m->name - 3, &m->bsd_name_len) ||
                m->bsd_name_len > size)
                return HP_E_AR_HEADER;
            /* BSD's symbol index is "#1/N" too, named "__.SYMDEF" (and " SORTED", "_64") */
            uint8_t head[9];
            if (m->bsd_name_len >= sizeof head &&
                hp_rd_bytes(rd, m->data_at, sizeof head, head) == HP_OK &&
                memcmp(head, "__.SYMDEF", sizeof head) == 0)
                m->kind = M_INDEX;
            m->data_at += m->bsd_name_len;
            m->data_size -= m->bsd_name_len;
        }
    }
    return HP_OK;
}

/* The member's name: short ("name/" or "name" padded), "/N" in the long-name table (GNU names
 * end with "/\n", MS ones with NUL), or BSD's, in front of the data. */
static hp_status member_name(const hp_rd *rd, hp_arena *arena, const raw_member *m,
                             const hp_rd *names, bool have_names, const char **out)
{
    size_t n = 0;
    bool ended;
    hp_rd at;
    if (m->bsd_name_len) {
        HP_CHECK_AS(hp_rd_sub(rd, m->data_at - m->bsd_name_len, m->bsd_name_len, &at),
                    HP_E_AR_HEADER);
        n = span(&at, 0, '\0', &ended);
    } else if (m->name[0] == '/' && m->name[1] >= '0' && m->name[1] <= '9') {
        uint64_t off;
        if (!have_names || !decimal(m->name + 1, sizeof m->name - 1, &off) ||
            off >= names->size || hp_rd_sub(names, off, names->size - off, &at) != HP_OK)
            return HP_E_AR_NAME;
        n = span(&at, 0, '\n', &ended);
        if (ended)
            return HP_E_AR_NAME;
        uint8_t last;
        if (n && hp_rd_u8(&at, n - 1, &last) == HP_OK && last == '/')
            n--;
    } else {
        at = hp_rd_make(m->name, sizeof m->name);
        n = span(&at, 0, '/', &ended);
        if (ended) /* BSD: no '/', padded with spaces */
            while (n > 0 && m->name[n - 1] == ' ')
                n--;
    }
    HP_CHECK_AS(hp_rd_sub(&at, 0, n, &at), HP_E_AR_NAME);
    *out = hp_arena_strndup(arena, at.data, n);
    return *out ? HP_OK : HP_E_NOMEM;
}

hp_status hp_ar_parse(hp_ar *out, hp_arena *arena, const void *data, size_t size)
{
    if (!out || !arena || (!data && size))
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    if (!hp_ar_is_archive(data, size))
        return HP_E_NOT_FOUND;
    if (memcmp(data, HP_IMAGE_ARCHIVE_THIN_START, HP_IMAGE_ARCHIVE_START_SIZE) == 0)
        return HP_E_AR_THIN;
    hp_rd rd = hp_rd_make(data, size);

    /* Pass 1: count the members and find the long-name table. Each header takes 60 bytes, so
     * the count is bounded by the file's size. */
    hp_rd names = { NULL, 0 };
    bool have_names = false;
    uint64_t count = 0;
    raw_member m;
    for (uint64_t at = HP_IMAGE_ARCHIVE_START_SIZE; at < size; at = m.next) {
        HP_CHECK(read_member(&rd, at, &m));
        if (m.kind == M_NAMES && !have_names) {
            HP_CHECK_AS(hp_rd_sub(&rd, m.data_at, m.data_size, &names), HP_E_AR_HEADER);
            have_names = true;
        }
        count += m.kind == M_OBJECT;
    }
    if (count == 0)
        return HP_OK;
    if (count > UINT32_MAX)
        return HP_E_OVERFLOW;
    out->members = hp_arena_array(arena, (size_t)count, sizeof *out->members);
    if (!out->members)
        return HP_E_NOMEM;

    /* Pass 2: the members, named. */
    uint32_t k = 0;
    for (uint64_t at = HP_IMAGE_ARCHIVE_START_SIZE; at < size; at = m.next) {
        HP_CHECK(read_member(&rd, at, &m));
        if (m.kind != M_OBJECT)
            continue;
        hp_ar_member *e = &out->members[k++];
        HP_CHECK(member_name(&rd, arena, &m, &names, have_names, &e->name));
        e->offset = m.data_at;
        HP_CHECK_AS(hp_rd_sub(&rd, m.data_at, m.data_size, &e->data), HP_E_AR_HEADER);
    }
    out->count = k;
    return HP_OK;
}
