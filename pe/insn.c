/* hotpe: encodings of the emitted jumps (see insn.h). */
#include "hotpe/pe/insn.h"

#include <stddef.h>
#include <string.h>

/* The structs are copied byte for byte: their multi-byte fields must already be little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "hp_insn_* structs assume little-endian");

/* target - next as a signed displacement that fits in [lo, hi]; the difference is taken modulo
 * 2^64 so that it cannot overflow, then read as two's complement. */
static int disp_fits(uint64_t next, uint64_t target, int64_t lo, int64_t hi, int64_t *disp)
{
    uint64_t d = target - next;
    int64_t s = d <= (uint64_t)INT64_MAX ? (int64_t)d : -(int64_t)(~d) - 1;
    if (s < lo || s > hi)
        return 0;
    *disp = s;
    return 1;
}

hp_status hp_insn_jmp_rel32_encode(uint64_t at, uint64_t target, uint8_t out[5])
{
    int64_t d;
    if (!out)
        return HP_E_ARG;
    if (at > UINT64_MAX - HP_INSN_JMP_REL32_LEN ||
        !disp_fits(at + HP_INSN_JMP_REL32_LEN, target, INT32_MIN, INT32_MAX, &d))
        return HP_E_INSN_RANGE;
    hp_insn_jmp_rel32 j = { 0xE9, (int32_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_rel32_encode_x86(uint32_t at, uint32_t target, uint8_t out[5])
{
    if (!out)
        return HP_E_ARG;
    uint32_t d = target - (at + HP_INSN_JMP_REL32_LEN); /* wraps on purpose, like EIP */
    hp_insn_jmp_rel32 j = { 0xE9, (int32_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_rip_encode(uint64_t at, uint64_t slot, uint8_t out[6])
{
    int64_t d;
    if (!out)
        return HP_E_ARG;
    if (at > UINT64_MAX - HP_INSN_JMP_RIP_LEN ||
        !disp_fits(at + HP_INSN_JMP_RIP_LEN, slot, INT32_MIN, INT32_MAX, &d))
        return HP_E_INSN_RANGE;
    hp_insn_jmp_rip j = { 0xFF, 0x25, (int32_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_rel8_encode(uint64_t at, uint64_t target, uint8_t out[2])
{
    int64_t d;
    if (!out)
        return HP_E_ARG;
    if (at > UINT64_MAX - HP_INSN_JMP_REL8_LEN ||
        !disp_fits(at + HP_INSN_JMP_REL8_LEN, target, INT8_MIN, INT8_MAX, &d))
        return HP_E_INSN_RANGE;
    hp_insn_jmp_rel8 j = { 0xEB, (int8_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_abs64_encode(uint64_t target, uint8_t out[14])
{
    if (!out)
        return HP_E_ARG;
    hp_insn_jmp_abs64 j = { 0xFF, 0x25, 0, target };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

unsigned hp_insn_moved_size(const hp_insn_moved *m)
{
    if (!m || !m->len || m->len > 15)
        return 0;
    switch (m->kind) {
    case HP_INSN_MOVE_PLAIN:
    case HP_INSN_MOVE_REL32:
    case HP_INSN_MOVE_RIP32:
        return m->len;
    case HP_INSN_MOVE_JCC:
        return HP_INSN_JCC_REL32_LEN;
    case HP_INSN_MOVE_JMP8:
        return HP_INSN_JMP_REL32_LEN;
    }
    return 0;
}

/* A rel32 from the instruction ending at `next_at` to target: the CPU's wrap on x86, in range
 * on x64. */
static hp_status rel32_to(bool x64, uint64_t next_at, uint64_t target, int32_t *rel)
{
    int64_t d;
    if (!x64) {
        *rel = (int32_t)(uint32_t)((uint32_t)target - (uint32_t)next_at);
        return HP_OK;
    }
    if (!disp_fits(next_at, target, INT32_MIN, INT32_MAX, &d))
        return HP_E_INSN_RELOC_RANGE;
    *rel = (int32_t)d;
    return HP_OK;
}

/* One instruction moved from `from` to `to` by its recipe, into out (hp_insn_moved_size bytes). */
static hp_status move_one(bool x64, const uint8_t *code, const hp_insn_moved *m, uint64_t from,
                          uint64_t to, uint8_t *out)
{
    unsigned n = m->len;
    uint64_t next = from + n;
    int32_t rel;
    switch (m->kind) {
    case HP_INSN_MOVE_PLAIN:
        memcpy(out, code, n);
        return HP_OK;
    case HP_INSN_MOVE_REL32: { /* E9 or E8: the same displacement rule; the opcode stays */
        if (n != 5 || (code[0] != 0xE9 && code[0] != 0xE8))
            return HP_E_ARG;
        int32_t old;
        memcpy(&old, code + 1, 4);
        HP_CHECK(rel32_to(x64, to + 5, next + (uint64_t)(int64_t)old, &rel));
        hp_insn_jmp_rel32 j = { code[0], rel };
        memcpy(out, &j, sizeof j);
        return HP_OK;
    }
    case HP_INSN_MOVE_RIP32: {
        if (!x64 || m->disp_offset + 4u > n)
            return HP_E_ARG;
        int32_t disp;
        memcpy(&disp, code + m->disp_offset, 4);
        HP_CHECK(rel32_to(x64, to + n, next + (uint64_t)(int64_t)disp, &rel));
        memcpy(out, code, n);
        memcpy(out + m->disp_offset, &rel, 4);
        return HP_OK;
    }
    case HP_INSN_MOVE_JCC: { /* 70+cc rel8 or 0F 80+cc rel32, as 0F 80+cc rel32 */
        int64_t old;
        uint8_t cc;
        if (n == 2 && code[0] >= 0x70 && code[0] <= 0x7F) {
            cc = code[0] & 0x0F;
            old = (int8_t)code[1];
        } else if (n == 6 && code[0] == 0x0F && code[1] >= 0x80 && code[1] <= 0x8F) {
            int32_t r;
            memcpy(&r, code + 2, 4);
            cc = code[1] & 0x0F;
            old = r;
        } else {
            return HP_E_ARG;
        }
        HP_CHECK(rel32_to(x64, to + HP_INSN_JCC_REL32_LEN, next + (uint64_t)old, &rel));
        hp_insn_jcc_rel32 j = { 0x0F, (uint8_t)(0x80 | cc), rel };
        memcpy(out, &j, sizeof j);
        return HP_OK;
    }
    case HP_INSN_MOVE_JMP8: {
        if (n != 2 || code[0] != 0xEB)
            return HP_E_ARG;
        HP_CHECK(rel32_to(x64, to + HP_INSN_JMP_REL32_LEN, next + (uint64_t)(int64_t)(int8_t)code[1],
                          &rel));
        hp_insn_jmp_rel32 j = { 0xE9, rel };
        memcpy(out, &j, sizeof j);
        return HP_OK;
    }
    default:
        return HP_E_ARG;
    }
}

hp_status hp_insn_tramp_make(bool x64, const uint8_t *code, size_t code_len,
                             const hp_insn_moved *m, unsigned count, uint64_t entry,
                             uint64_t at, uint8_t out[HP_INSN_TRAMP_MAX], size_t *out_len)
{
    if (!code || !m || !out || !out_len || !count || count > HP_INSN_TRAMP_MOVED_MAX)
        return HP_E_ARG;
    size_t len = 0, olen = 0; /* bytes moved from the function, bytes written to the stub */
    for (unsigned i = 0; i < count; i++) {
        unsigned size = hp_insn_moved_size(&m[i]);
        if (!size || len + m[i].len > code_len ||
            olen + size + HP_INSN_JMP_ABS64_LEN > HP_INSN_TRAMP_MAX)
            return HP_E_ARG;
        HP_CHECK(move_one(x64, code + len, &m[i], entry + len, at + olen, out + olen));
        len += m[i].len;
        olen += size;
    }
    uint64_t next = entry + len;
    if (x64) {
        hp_insn_jmp_abs64_encode(next, out + olen);
        olen += HP_INSN_JMP_ABS64_LEN;
    } else {
        hp_insn_jmp_rel32_encode_x86((uint32_t)(at + olen), (uint32_t)next, out + olen);
        olen += HP_INSN_JMP_REL32_LEN;
    }
    *out_len = olen;
    return HP_OK;
}

hp_status hp_insn_stub_make(bool x64, const uint8_t *code, size_t code_len,
                            const hp_insn_moved *m, uint64_t entry, uint64_t stub_at,
                            uint8_t out[HP_INSN_STUB_MAX], size_t *out_len)
{
    uint8_t buf[HP_INSN_TRAMP_MAX];
    size_t len = 0;
    HP_CHECK(hp_insn_tramp_make(x64, code, code_len, m, 1, entry, stub_at, buf, &len));
    if (len > HP_INSN_STUB_MAX)
        return HP_E_ARG;
    memcpy(out, buf, len);
    *out_len = len;
    return HP_OK;
}

/* The boot stubs: each a packed struct whose layout is the encoding. */
#pragma pack(push, 1)
typedef struct boot64 {
    uint8_t sub_rsp[4];      /* 48 83 EC 28     sub rsp, 0x28 */
    uint8_t mov_rcx0[2];     /* 48 B9           mov rcx, path */
    uint64_t path;
    uint8_t mov_rax0[2];     /* 48 B8           mov rax, LoadLibraryW */
    uint64_t load_library;
    uint8_t call0[2];        /* FF D0           call rax */
    uint8_t test0[3];        /* 48 85 C0        test rax, rax */
    uint8_t jz0[2];          /* 74 rel8         jz fail */
    uint8_t mov_rcx_rax[3];  /* 48 89 C1        mov rcx, rax */
    uint8_t mov_rdx[2];      /* 48 BA           mov rdx, name */
    uint64_t name;
    uint8_t mov_rax1[2];     /* 48 B8           mov rax, GetProcAddress */
    uint64_t get_proc;
    uint8_t call1[2];        /* FF D0           call rax */
    uint8_t test1[3];        /* 48 85 C0        test rax, rax */
    uint8_t jz1[2];          /* 74 rel8         jz fail */
    uint8_t mov_rcx1[2];     /* 48 B9           mov rcx, arg */
    uint64_t arg;
    uint8_t add_rsp0[4];     /* 48 83 C4 28     add rsp, 0x28 */
    uint8_t jmp_rax[2];      /* FF E0           jmp rax */
    uint8_t mov_eax;         /* B8              fail: mov eax, fail */
    uint32_t fail;
    uint8_t add_rsp1[4];     /* 48 83 C4 28     add rsp, 0x28 */
    uint8_t ret;             /* C3 */
} boot64;

typedef struct boot32 {
    uint8_t push0;           /* 68              push path */
    uint32_t path;
    uint8_t mov_eax0;        /* B8              mov eax, LoadLibraryW */
    uint32_t load_library;
    uint8_t call0[2];        /* FF D0           call eax (stdcall: pops path) */
    uint8_t test0[2];        /* 85 C0           test eax, eax */
    uint8_t jz0[2];          /* 74 rel8         jz fail */
    uint8_t push1;           /* 68              push name */
    uint32_t name;
    uint8_t push_eax;        /* 50              push eax */
    uint8_t mov_eax1;        /* B8              mov eax, GetProcAddress */
    uint32_t get_proc;
    uint8_t call1[2];        /* FF D0           call eax */
    uint8_t test1[2];        /* 85 C0           test eax, eax */
    uint8_t jz1[2];          /* 74 rel8         jz fail */
    uint8_t mov_arg[4];      /* C7 44 24 04     mov dword [esp+4], arg: the entry's argument */
    uint32_t arg;
    uint8_t jmp_eax[2];      /* FF E0           jmp eax (its ret 4 ends the thread procedure) */
    uint8_t mov_eax2;        /* B8              fail: mov eax, fail */
    uint32_t fail;
    uint8_t ret4[3];         /* C2 04 00        ret 4 */
} boot32;
#pragma pack(pop)

_Static_assert(sizeof(boot64) <= HP_INSN_BOOT_MAX && sizeof(boot32) <= HP_INSN_BOOT_MAX,
               "boot stub size");

/* rel8 of a jz whose field is at offset `field` (the instruction ends after it) to `to` */
#define BOOT_JZ(type, field, to) \
    { 0x74, (uint8_t)(offsetof(type, to) - (offsetof(type, field) + 2)) }

hp_status hp_insn_boot_encode(bool x64, const hp_insn_boot_args *a,
                              uint8_t out[HP_INSN_BOOT_MAX], size_t *out_len)
{
    if (!a || !out || !out_len)
        return HP_E_ARG;
    if (x64) {
        boot64 b = {
            { 0x48, 0x83, 0xEC, 0x28 }, { 0x48, 0xB9 }, a->path, { 0x48, 0xB8 },
            a->load_library, { 0xFF, 0xD0 }, { 0x48, 0x85, 0xC0 }, BOOT_JZ(boot64, jz0, mov_eax),
            { 0x48, 0x89, 0xC1 }, { 0x48, 0xBA }, a->name, { 0x48, 0xB8 }, a->get_proc,
            { 0xFF, 0xD0 }, { 0x48, 0x85, 0xC0 }, BOOT_JZ(boot64, jz1, mov_eax), { 0x48, 0xB9 },
            a->arg, { 0x48, 0x83, 0xC4, 0x28 }, { 0xFF, 0xE0 }, 0xB8, a->fail,
            { 0x48, 0x83, 0xC4, 0x28 }, 0xC3,
        };
        memcpy(out, &b, sizeof b);
        *out_len = sizeof b;
        return HP_OK;
    }
    if ((a->load_library | a->get_proc | a->path | a->name | a->arg) > UINT32_MAX)
        return HP_E_ARG;
    boot32 b = {
        0x68, (uint32_t)a->path, 0xB8, (uint32_t)a->load_library, { 0xFF, 0xD0 }, { 0x85, 0xC0 },
        BOOT_JZ(boot32, jz0, mov_eax2), 0x68, (uint32_t)a->name, 0x50, 0xB8,
        (uint32_t)a->get_proc, { 0xFF, 0xD0 }, { 0x85, 0xC0 }, BOOT_JZ(boot32, jz1, mov_eax2),
        { 0xC7, 0x44, 0x24, 0x04 }, (uint32_t)a->arg, { 0xFF, 0xE0 }, 0xB8, a->fail,
        { 0xC2, 0x04, 0x00 },
    };
    memcpy(out, &b, sizeof b);
    *out_len = sizeof b;
    return HP_OK;
}
