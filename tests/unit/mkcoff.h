/*
 * mkcoff: build small COFF objects and static archives in memory for tests, the way mkpe.h
 * builds images (its mkpe_image buffers and stores are reused).
 *
 *     mkcoff_spec spec;
 *     mkcoff_sample(&spec, HP_IMAGE_FILE_MACHINE_AMD64, false);   // or describe one by hand
 *     mkcoff_layout at;
 *     mkpe_image obj = mkcoff_build(&spec, &at);                   // malloc'd
 *     mkpe_w32(&obj, at.strtab, 3);                                // corrupt one field
 *     ... hp_coff_parse(&c, &arena, obj.data, obj.size) ...
 *     mkpe_free(&obj);
 *
 * Layout: the file header (20 bytes, or the 56-byte /bigobj header), the section table (no
 * raw data: pe/coff.c never reads it), the symbol table (18- or 20-byte records, each
 * symbol's aux records after it), the string table (a u32 size counting itself, then every
 * name longer than 8 bytes, NUL-terminated) unless no_strtab.
 *
 * Archives: mkcoff_ar lays out "!<arch>\n", the symbol index ("/", once for GNU, twice for
 * MS; BSD's "#1/12" "__.SYMDEF"), the long-name table ("//": GNU names end "/\n", MS names
 * NUL) and each member, padded to an even offset. Names of 15 bytes and less are stored in
 * the header ("name/"; BSD always "#1/N").
 */
#ifndef HOTPE_TEST_MKCOFF_H
#define HOTPE_TEST_MKCOFF_H

#include "mkpe.h"

#define MKCOFF_MAX_SECTIONS 8
#define MKCOFF_MAX_SYMBOLS 16
#define MKCOFF_CODE (HP_IMAGE_SCN_CNT_CODE | HP_IMAGE_SCN_MEM_EXECUTE | HP_IMAGE_SCN_MEM_READ)
#define MKCOFF_DATA (HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ | HP_IMAGE_SCN_MEM_WRITE)

typedef struct mkcoff_symbol {
    const char *name;
    uint32_t value;
    int32_t section;
    uint16_t type;
    uint8_t storage_class;
    uint8_t aux_count;
    const char *aux_text;    /* copied into the aux records (a .file record's name) */
} mkcoff_symbol;

typedef struct mkcoff_spec {
    uint16_t machine;
    bool bigobj;
    bool no_strtab;
    unsigned section_count;
    struct {
        const char *name;
        uint32_t characteristics;
    } sections[MKCOFF_MAX_SECTIONS];
    unsigned symbol_count;
    mkcoff_symbol symbols[MKCOFF_MAX_SYMBOLS];
} mkcoff_spec;

/* File offsets of the parts, and the symbol record size. */
typedef struct mkcoff_layout {
    uint32_t sections, symtab, strtab, record;
    uint32_t sym_at[MKCOFF_MAX_SYMBOLS];   /* each symbol's record */
} mkcoff_layout;

/* strnlen without POSIX: the fuzz seeds' builder compiles this as plain C11 */
static inline size_t mkcoff_strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

static inline uint32_t mkcoff_add_section(mkcoff_spec *s, const char *name, uint32_t flags)
{
    if (s->section_count >= MKCOFF_MAX_SECTIONS)
        abort();
    s->sections[s->section_count].name = name;
    s->sections[s->section_count].characteristics = flags;
    return ++s->section_count; /* 1-based, as symbols name it */
}

static inline void mkcoff_add_symbol(mkcoff_spec *s, mkcoff_symbol sym)
{
    if (s->symbol_count >= MKCOFF_MAX_SYMBOLS)
        abort();
    s->symbols[s->symbol_count++] = sym;
}

static inline mkpe_image mkcoff_build(const mkcoff_spec *s, mkcoff_layout *at)
{
    mkcoff_layout l;
    memset(&l, 0, sizeof l);
    uint32_t header = s->bigobj ? 56 : 20;
    l.record = s->bigobj ? 20 : 18;
    l.sections = header;
    l.symtab = header + 40 * s->section_count;
    uint32_t records = 0, strtab_size = 4;
    for (unsigned i = 0; i < s->symbol_count; i++) {
        l.sym_at[i] = l.symtab + records * l.record;
        records += 1 + s->symbols[i].aux_count;
        size_t n = strlen(s->symbols[i].name);
        if (n > 8)
            strtab_size += (uint32_t)n + 1;
    }
    l.strtab = l.symtab + records * l.record;
    mkpe_image img;
    img.size = l.strtab + (s->no_strtab ? 0 : strtab_size);
    img.data = calloc(1, img.size);
    if (!img.data)
        abort();

    if (s->bigobj) {
        static const uint8_t class_id[16] = HP_BIGOBJ_CLASSID;
        typedef HP_ANON_OBJECT_HEADER_BIGOBJ bh;
        MKPE_PUT(&img, 0, bh, Sig2, 0xFFFF);
        MKPE_PUT(&img, 0, bh, Version, 2);
        MKPE_PUT(&img, 0, bh, Machine, s->machine);
        memcpy(img.data + offsetof(bh, ClassID), class_id, sizeof class_id);
        MKPE_PUT(&img, 0, bh, NumberOfSections, s->section_count);
        MKPE_PUT(&img, 0, bh, PointerToSymbolTable, records ? l.symtab : 0);
        MKPE_PUT(&img, 0, bh, NumberOfSymbols, records);
    } else {
        typedef HP_IMAGE_FILE_HEADER fh;
        MKPE_PUT(&img, 0, fh, Machine, s->machine);
        MKPE_PUT(&img, 0, fh, NumberOfSections, s->section_count);
        MKPE_PUT(&img, 0, fh, PointerToSymbolTable, records ? l.symtab : 0);
        MKPE_PUT(&img, 0, fh, NumberOfSymbols, records);
    }
    for (unsigned i = 0; i < s->section_count; i++) {
        uint32_t h = l.sections + 40 * i;
        memcpy(img.data + h, s->sections[i].name, mkcoff_strnlen(s->sections[i].name, 8));
        MKPE_PUT(&img, h, HP_IMAGE_SECTION_HEADER, Characteristics, s->sections[i].characteristics);
    }
    uint32_t str = 4;
    unsigned shift = l.record - 18; /* the fields after SectionNumber move in a /bigobj record */
    for (unsigned i = 0; i < s->symbol_count; i++) {
        const mkcoff_symbol *y = &s->symbols[i];
        uint32_t r = l.sym_at[i];
        size_t n = strlen(y->name);
        if (n > 8) {
            mkpe_w32(&img, r + 4, str);
            if (!s->no_strtab)
                memcpy(img.data + l.strtab + str, y->name, n + 1);
            str += (uint32_t)n + 1;
        } else {
            memcpy(img.data + r, y->name, n);
        }
        mkpe_w32(&img, r + 8, y->value);
        if (s->bigobj)
            mkpe_w32(&img, r + 12, (uint32_t)y->section);
        else
            mkpe_w16(&img, r + 12, (uint16_t)y->section);
        mkpe_w16(&img, r + 14 + shift, y->type);
        mkpe_w8(&img, r + 16 + shift, y->storage_class);
        mkpe_w8(&img, r + 17 + shift, y->aux_count);
        if (y->aux_text)
            memcpy(img.data + r + l.record, y->aux_text,
                   mkcoff_strnlen(y->aux_text, (size_t)y->aux_count * l.record));
    }
    if (!s->no_strtab)
        mkpe_w32(&img, l.strtab, strtab_size);
    if (at)
        *at = l;
    return img;
}

/* The sample object: every kind of symbol pe/coff.c tells apart. Its functions, in table
 * order: a_function_with_a_long_name (EXTERNAL), helper (STATIC), asm_label (an untyped
 * EXTERNAL in code), hot (EXTERNAL in a second code section); names carry x86's '_'. */
enum {
    MKCOFF_SYM_FILE, MKCOFF_SYM_TEXT, MKCOFF_SYM_LONG, MKCOFF_SYM_HELPER, MKCOFF_SYM_DATA,
    MKCOFF_SYM_ASM, MKCOFF_SYM_LABEL, MKCOFF_SYM_UNDEF, MKCOFF_SYM_ABS, MKCOFF_SYM_HOT_SECTION,
    MKCOFF_SYM_HOT, MKCOFF_SYM_IN_DATA, MKCOFF_SYM_COUNT
};
static inline void mkcoff_sample(mkcoff_spec *s, uint16_t machine, bool bigobj)
{
    bool x86 = machine == HP_IMAGE_FILE_MACHINE_I386;
    memset(s, 0, sizeof *s);
    s->machine = machine;
    s->bigobj = bigobj;
    int32_t text = (int32_t)mkcoff_add_section(s, ".text", MKCOFF_CODE);
    int32_t data = (int32_t)mkcoff_add_section(s, ".data", MKCOFF_DATA);
    int32_t hot = (int32_t)mkcoff_add_section(s, ".text$hot", MKCOFF_CODE);
    const uint8_t ext = HP_IMAGE_SYM_CLASS_EXTERNAL, sta = HP_IMAGE_SYM_CLASS_STATIC;
    mkcoff_add_symbol(s, (mkcoff_symbol){ ".file", 0, -2, 0, HP_IMAGE_SYM_CLASS_FILE, 1, "lib.c" });
    mkcoff_add_symbol(s, (mkcoff_symbol){ ".text", 0, text, 0, sta, 1, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ x86 ? "_a_function_with_a_long_name" : "a_function_with_a_long_name",
                                          0x10, text, 0x20, ext, 1, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ x86 ? "_helper" : "helper", 0x40, text, 0x20, sta, 0, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ x86 ? "_data_var" : "data_var", 0, data, 0, ext, 0, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ x86 ? "_asm_label" : "asm_label", 0x60, text, 0, ext, 0, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ "lbl", 0x64, text, 0, sta, 0, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ x86 ? "_memcpy" : "memcpy", 0, 0, 0x20, ext, 0, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ "@feat.00", 1, -1, 0, sta, 0, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ ".text$hot", 0, hot, 0, sta, 1, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ x86 ? "_hot@8" : "hot", 0, hot, 0x20, ext, 0, NULL });
    mkcoff_add_symbol(s, (mkcoff_symbol){ "table_fn", 8, data, 0x20, ext, 0, NULL });
}

/* ---- archives ----------------------------------------------------------------------------- */

typedef enum mkcoff_ar_style { MKCOFF_AR_GNU, MKCOFF_AR_MS, MKCOFF_AR_BSD } mkcoff_ar_style;

typedef struct mkcoff_member {
    const char *name;
    const void *data;
    size_t size;
} mkcoff_member;

/* Where mkcoff_ar put things: each member's header, the long-name table's data. */
typedef struct mkcoff_ar_layout {
    uint32_t header[8];
    uint32_t names;          /* 0 when there is no "//" member */
} mkcoff_ar_layout;

static inline void mkcoff_ar_header(uint8_t *h, const char *name, size_t size)
{
    memset(h, ' ', 60);
    memcpy(h, name, strlen(name) < 16 ? strlen(name) : 16);
    char num[24];
    int n = snprintf(num, sizeof num, "%zu", size);
    memcpy(h + 48, num, (size_t)n);
    h[58] = '`';
    h[59] = '\n';
}

static inline mkpe_image mkcoff_ar(const mkcoff_member *m, unsigned count, mkcoff_ar_style style,
                                   mkcoff_ar_layout *at)
{
    mkcoff_ar_layout l;
    memset(&l, 0, sizeof l);
    char table[1024];
    size_t table_len = 0;
    size_t name_at[8] = { 0 };
    if (count > 8)
        abort();
    for (unsigned i = 0; style != MKCOFF_AR_BSD && i < count; i++)
        if (strlen(m[i].name) > 15) {
            name_at[i] = table_len;
            table_len += (size_t)snprintf(table + table_len, sizeof table - table_len,
                                          style == MKCOFF_AR_GNU ? "%s/\n" : "%s%c", m[i].name, 0);
        }
    size_t cap = 8 + 3 * 80 + table_len + 2;
    for (unsigned i = 0; i < count; i++)
        cap += 60 + strlen(m[i].name) + m[i].size + 2;
    mkpe_image img = { calloc(1, cap), 0 };
    if (!img.data)
        abort();
    uint8_t *p = img.data;
    size_t off = 0;
#define MKCOFF_PAD() do { if (off & 1) p[off++] = '\n'; } while (0)
    memcpy(p, "!<arch>\n", 8);
    off = 8;
    static const uint8_t index[4] = { 0 }; /* no symbols */
    for (int k = 0; k < (style == MKCOFF_AR_MS ? 2 : 1); k++) {
        if (style == MKCOFF_AR_BSD) {
            mkcoff_ar_header(p + off, "#1/12", 12 + sizeof index);
            memcpy(p + off + 60, "__.SYMDEF\0\0\0", 12);
            memcpy(p + off + 72, index, sizeof index);
            off += 60 + 12 + sizeof index;
        } else {
            mkcoff_ar_header(p + off, "/", sizeof index);
            memcpy(p + off + 60, index, sizeof index);
            off += 60 + sizeof index;
        }
        MKCOFF_PAD();
    }
    if (table_len) {
        mkcoff_ar_header(p + off, "//", table_len);
        l.names = (uint32_t)off + 60;
        memcpy(p + off + 60, table, table_len);
        off += 60 + table_len;
        MKCOFF_PAD();
    }
    for (unsigned i = 0; i < count; i++) {
        char name[48]; /* at most 16 bytes go into the header */
        size_t n = strlen(m[i].name), extra = 0;
        l.header[i] = (uint32_t)off;
        if (style == MKCOFF_AR_BSD) {
            snprintf(name, sizeof name, "#1/%zu", n);
            extra = n;
        } else if (n > 15) {
            snprintf(name, sizeof name, "/%zu", name_at[i]);
        } else {
            snprintf(name, sizeof name, "%s/", m[i].name);
        }
        mkcoff_ar_header(p + off, name, m[i].size + extra);
        off += 60;
        if (extra) {
            memcpy(p + off, m[i].name, n);
            off += n;
        }
        memcpy(p + off, m[i].data, m[i].size);
        off += m[i].size;
        MKCOFF_PAD();
    }
#undef MKCOFF_PAD
    img.size = off;
    if (at)
        *at = l;
    return img;
}

#endif
