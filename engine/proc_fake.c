/*
 * hotpe: the in-memory fake process for native unit tests (proc.h). Regions with protections,
 * threads whose instruction pointers the test places, and fault injection: the nth next
 * operation of a kind fails, so a test can walk a commit through every step that can fail.
 */
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/proc.h"

typedef struct fake_region {
    uint64_t base;
    size_t size;
    unsigned prot;
    bool allocated;          /* by alloc_near, so free may release it */
    uint8_t *bytes;
} fake_region;

typedef struct fake_thread {
    uint64_t ip;
    unsigned moves_after;    /* thaws left before the thread moves to next_ip; 0: stays */
    uint64_t next_ip;
} fake_thread;

struct hp_proc_fake {
    fake_region *regions;
    size_t nregions;
    fake_thread *threads;
    size_t nthreads;
    bool frozen;
    bool confined;           /* confine called, release not yet */
    unsigned thaws_confined; /* thaws that let threads run still confined */
    uint64_t clock;
    uint64_t next_alloc;     /* where alloc_near places the next region */
    unsigned ops[HP_FAKE_OP_COUNT];
    hp_proc_fake_op fail_kind;
    unsigned fail_left;      /* 0: disarmed */
};

/* Count one operation of `kind`; true when fault injection makes it fail. */
static bool op(hp_proc_fake *f, hp_proc_fake_op kind)
{
    f->ops[kind]++;
    f->ops[HP_FAKE_OP_ANY]++;
    f->clock += 1000;
    if (f->fail_left && (f->fail_kind == HP_FAKE_OP_ANY || f->fail_kind == kind)) {
        if (--f->fail_left == 0)
            return true;
    }
    return false;
}

static fake_region *find(hp_proc_fake *f, uint64_t addr)
{
    for (size_t i = 0; i < f->nregions; i++)
        if (addr >= f->regions[i].base && addr - f->regions[i].base < f->regions[i].size)
            return &f->regions[i];
    return NULL;
}

/* The region holding all of [addr, addr+n), or NULL. */
static fake_region *find_range(hp_proc_fake *f, uint64_t addr, size_t n)
{
    fake_region *r = find(f, addr);
    if (!r || n > r->size - (addr - r->base))
        return NULL;
    return r;
}

static hp_status fake_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
    hp_proc_fake *f = ctx;
    if (op(f, HP_FAKE_OP_READ))
        return HP_E_PROC_READ;
    fake_region *r = find_range(f, addr, n);
    if (!r || !(r->prot & HP_FAKE_R))
        return HP_E_PROC_READ;
    memcpy(buf, r->bytes + (addr - r->base), n);
    return HP_OK;
}

/* Like VirtualProtect -> store -> restore: three operations, each of which can fail. */
static hp_status fake_store(hp_proc_fake *f, uint64_t addr, const void *buf, size_t n,
                            hp_proc_fake_op kind)
{
    fake_region *r = find_range(f, addr, n);
    if (op(f, HP_FAKE_OP_PROTECT) || !r)
        return HP_E_PROC_PROTECT;
    unsigned old = r->prot;
    r->prot = old | HP_FAKE_W;
    if (op(f, kind)) {
        r->prot = old;
        return HP_E_PROC_WRITE;
    }
    memcpy(r->bytes + (addr - r->base), buf, n);
    /* a failed restore leaves the page writable, as VirtualProtect would */
    if (op(f, HP_FAKE_OP_PROTECT))
        return HP_E_PROC_PROTECT;
    r->prot = old;
    return HP_OK;
}

static hp_status fake_write(void *ctx, uint64_t addr, const void *buf, size_t n)
{
    hp_proc_fake *f = ctx;
    HP_CHECK(fake_store(f, addr, buf, n, HP_FAKE_OP_WRITE));
    return op(f, HP_FAKE_OP_FLUSH) ? HP_E_PROC_FLUSH : HP_OK;
}

static hp_status fake_store2(void *ctx, uint64_t addr, const uint8_t bytes[2])
{
    return fake_store(ctx, addr, bytes, 2, HP_FAKE_OP_STORE2);
}

static hp_status fake_alloc_near(void *ctx, uint64_t near_addr, size_t size, uint64_t *out)
{
    hp_proc_fake *f = ctx;
    if (op(f, HP_FAKE_OP_ALLOC))
        return HP_E_PROC_ALLOC;
    /* 64 KiB granularity, first free spot at or above near - 1 GiB (within rel32 reach) */
    size = (size + 0xffffu) & ~(size_t)0xffff;
    uint64_t at = f->next_alloc ? f->next_alloc
                                : (near_addr > (1ull << 30) ? near_addr - (1ull << 30) : 0x10000);
    at &= ~(uint64_t)0xffff;
    while (find(f, at) || find(f, at + size - 1))
        at += 0x10000;
    HP_CHECK(hp_proc_fake_map(f, at, size, HP_FAKE_R | HP_FAKE_X, NULL));
    f->regions[f->nregions - 1].allocated = true;
    f->next_alloc = at + size;
    *out = at;
    return HP_OK;
}

static hp_status fake_free(void *ctx, uint64_t addr)
{
    hp_proc_fake *f = ctx;
    if (op(f, HP_FAKE_OP_FREE))
        return HP_E_PROC_FREE;
    fake_region *r = find(f, addr);
    if (!r || !r->allocated || r->base != addr)
        return HP_E_PROC_FREE;
    free(r->bytes);
    *r = f->regions[--f->nregions];
    return HP_OK;
}

static hp_status fake_flush(void *ctx, uint64_t addr, size_t n)
{
    (void)addr;
    (void)n;
    return op(ctx, HP_FAKE_OP_FLUSH) ? HP_E_PROC_FLUSH : HP_OK;
}

static hp_status fake_freeze(void *ctx)
{
    hp_proc_fake *f = ctx;
    if (f->frozen)
        return HP_E_TXN_STATE;
    if (op(f, HP_FAKE_OP_FREEZE))
        return HP_E_PROC_FREEZE;
    f->frozen = true;
    return HP_OK;
}

static hp_status fake_threads(void *ctx, hp_proc_thread *out, size_t cap, size_t *count)
{
    hp_proc_fake *f = ctx;
    if (op(f, HP_FAKE_OP_IPS))
        return HP_E_PROC_CONTEXT;
    if (!f->frozen)
        return HP_E_TXN_STATE;
    for (size_t i = 0; i < f->nthreads && i < cap; i++)
        out[i] = (hp_proc_thread){ .tid = (uint32_t)i + 1, .ip = f->threads[i].ip };
    *count = f->nthreads;
    return HP_OK;
}

/* The thread ran the jump it sat on: it is at the jump's target, and stays there. */
static hp_status fake_set_ip(void *ctx, uint32_t tid, uint64_t ip)
{
    hp_proc_fake *f = ctx;
    if (op(f, HP_FAKE_OP_SET_IP))
        return HP_E_PROC_CONTEXT;
    if (!f->frozen)
        return HP_E_TXN_STATE;
    if (!tid || tid > f->nthreads)
        return HP_E_PROC_CONTEXT;
    f->threads[tid - 1] = (fake_thread){ ip, 0, 0 };
    return HP_OK;
}

static hp_status fake_thaw(void *ctx)
{
    hp_proc_fake *f = ctx;
    if (!f->frozen)
        return HP_E_TXN_STATE;
    if (op(f, HP_FAKE_OP_THAW))
        return HP_E_PROC_THAW;   /* threads stay suspended: the caller must try again */
    f->frozen = false;
    f->thaws_confined += f->confined;
    for (size_t i = 0; i < f->nthreads; i++) {
        fake_thread *t = &f->threads[i];
        if (t->moves_after && --t->moves_after == 0)
            t->ip = t->next_ip;
    }
    return HP_OK;
}

/* Best effort in the real back-end: counted, never failed (outside HP_FAKE_OP_ANY). */
static void fake_confine(void *ctx)
{
    hp_proc_fake *f = ctx;
    f->ops[HP_FAKE_OP_CONFINE]++;
    f->confined = true;
}

static void fake_release(void *ctx)
{
    hp_proc_fake *f = ctx;
    f->ops[HP_FAKE_OP_RELEASE]++;
    f->confined = false;
}

static void fake_pause(void *ctx, unsigned ms)
{
    ((hp_proc_fake *)ctx)->clock += (uint64_t)ms * 1000000u;
}

static uint64_t fake_clock(void *ctx)
{
    return ((hp_proc_fake *)ctx)->clock;
}

static void fake_close(void *ctx)
{
    hp_proc_fake *f = ctx;
    for (size_t i = 0; i < f->nregions; i++)
        free(f->regions[i].bytes);
    free(f->regions);
    free(f->threads);
    free(f);
}

static const hp_proc_ops fake_ops = {
    .read = fake_read,
    .write = fake_write,
    .store2 = fake_store2,
    .alloc_near = fake_alloc_near,
    .free = fake_free,
    .flush_icache = fake_flush,
    .confine = fake_confine,
    .release = fake_release,
    .freeze = fake_freeze,
    .threads = fake_threads,
    .set_ip = fake_set_ip,
    .thaw = fake_thaw,
    .pause = fake_pause,
    .clock_ns = fake_clock,
    .close = fake_close,
};

hp_status hp_proc_fake_open(hp_proc *out, hp_proc_fake **fake, bool x64)
{
    if (!out || !fake)
        return HP_E_ARG;
    hp_proc_fake *f = calloc(1, sizeof *f);
    if (!f)
        return HP_E_NOMEM;
    out->ops = &fake_ops;
    out->ctx = f;
    out->x64 = x64;
    *fake = f;
    return HP_OK;
}

hp_status hp_proc_fake_map(hp_proc_fake *f, uint64_t base, size_t size, unsigned prot,
                           const void *init)
{
    if (!f || !size || base + size < base)
        return HP_E_ARG;
    for (size_t i = 0; i < f->nregions; i++) {
        const fake_region *r = &f->regions[i];
        if (base < r->base + r->size && r->base < base + size)
            return HP_E_ARG;
    }
    fake_region *grown = realloc(f->regions, (f->nregions + 1) * sizeof *grown);
    if (!grown)
        return HP_E_NOMEM;
    f->regions = grown;
    uint8_t *bytes = calloc(1, size);
    if (!bytes)
        return HP_E_NOMEM;
    if (init)
        memcpy(bytes, init, size);
    f->regions[f->nregions++] = (fake_region){ base, size, prot, false, bytes };
    return HP_OK;
}

uint8_t *hp_proc_fake_mem(hp_proc_fake *f, uint64_t addr, size_t n)
{
    fake_region *r = f ? find_range(f, addr, n) : NULL;
    return r ? r->bytes + (addr - r->base) : NULL;
}

int hp_proc_fake_prot(const hp_proc_fake *f, uint64_t addr)
{
    fake_region *r = f ? find((hp_proc_fake *)f, addr) : NULL;
    return r ? (int)r->prot : -1;
}

size_t hp_proc_fake_region_count(const hp_proc_fake *f)
{
    return f ? f->nregions : 0;
}

uint64_t hp_proc_fake_thread_ip(const hp_proc_fake *f, size_t index)
{
    return f && index < f->nthreads ? f->threads[index].ip : 0;
}

hp_status hp_proc_fake_thread(hp_proc_fake *f, uint64_t ip, unsigned moves_after, uint64_t next_ip)
{
    if (!f)
        return HP_E_ARG;
    fake_thread *grown = realloc(f->threads, (f->nthreads + 1) * sizeof *grown);
    if (!grown)
        return HP_E_NOMEM;
    f->threads = grown;
    f->threads[f->nthreads++] = (fake_thread){ ip, moves_after, next_ip };
    return HP_OK;
}

bool hp_proc_fake_frozen(const hp_proc_fake *f)
{
    return f && f->frozen;
}

bool hp_proc_fake_confined(const hp_proc_fake *f)
{
    return f && f->confined;
}

unsigned hp_proc_fake_thaws_confined(const hp_proc_fake *f)
{
    return f ? f->thaws_confined : 0;
}

void hp_proc_fake_fail_at(hp_proc_fake *f, hp_proc_fake_op kind, unsigned n)
{
    if (!f || (unsigned)kind >= HP_FAKE_OP_COUNT)
        return;
    f->fail_kind = kind;
    f->fail_left = n;
}

unsigned hp_proc_fake_ops(const hp_proc_fake *f, hp_proc_fake_op kind)
{
    return f && (unsigned)kind < HP_FAKE_OP_COUNT ? f->ops[kind] : 0;
}
