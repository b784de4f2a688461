/* hotpe: the checked wrappers of the process-access interface (proc.h). */
#include <string.h>

#include "hotpe/engine/proc.h"

static bool usable(const hp_proc *p)
{
    return p && p->ops && p->ctx;
}

hp_status hp_proc_read(const hp_proc *p, uint64_t addr, void *buf, size_t n)
{
    if (!usable(p) || (!buf && n))
        return HP_E_ARG;
    return n ? p->ops->read(p->ctx, addr, buf, n) : HP_OK;
}

hp_status hp_proc_write(const hp_proc *p, uint64_t addr, const void *buf, size_t n)
{
    if (!usable(p) || (!buf && n))
        return HP_E_ARG;
    return n ? p->ops->write(p->ctx, addr, buf, n) : HP_OK;
}

hp_status hp_proc_store2(const hp_proc *p, uint64_t addr, const uint8_t bytes[2])
{
    if (!usable(p) || !bytes)
        return HP_E_ARG;
    /* checked for every back-end, so the fake refuses exactly what the real ones refuse */
    if (!hp_proc_store2_atomic_ok(addr))
        return HP_E_PROC_STRADDLE;
    return p->ops->store2(p->ctx, addr, bytes);
}

hp_status hp_proc_alloc_near(const hp_proc *p, uint64_t near_addr, size_t size, uint64_t *out)
{
    if (!usable(p) || !out || !size)
        return HP_E_ARG;
    *out = 0;
    return p->ops->alloc_near(p->ctx, near_addr, size, out);
}

hp_status hp_proc_free(const hp_proc *p, uint64_t addr)
{
    if (!usable(p) || !addr)
        return HP_E_ARG;
    return p->ops->free(p->ctx, addr);
}

hp_status hp_proc_flush_icache(const hp_proc *p, uint64_t addr, size_t n)
{
    if (!usable(p))
        return HP_E_ARG;
    return p->ops->flush_icache(p->ctx, addr, n);
}

void hp_proc_learn_threads(const hp_proc *p)
{
    if (usable(p) && p->ops->learn_threads)
        p->ops->learn_threads(p->ctx);
}

void hp_proc_confine(const hp_proc *p)
{
    if (usable(p) && p->ops->confine)
        p->ops->confine(p->ctx);
}

void hp_proc_release(const hp_proc *p)
{
    if (usable(p) && p->ops->release)
        p->ops->release(p->ctx);
}

hp_status hp_proc_freeze(const hp_proc *p)
{
    if (!usable(p))
        return HP_E_ARG;
    return p->ops->freeze(p->ctx);
}

hp_status hp_proc_threads(const hp_proc *p, hp_proc_thread *out, size_t cap, size_t *count)
{
    if (!usable(p) || !count || (!out && cap))
        return HP_E_ARG;
    return p->ops->threads(p->ctx, out, cap, count);
}

bool hp_proc_can_set_ip(const hp_proc *p)
{
    return usable(p) && p->ops->set_ip;
}

hp_status hp_proc_set_ip(const hp_proc *p, uint32_t tid, uint64_t ip)
{
    if (!usable(p) || !ip)
        return HP_E_ARG;
    return p->ops->set_ip ? p->ops->set_ip(p->ctx, tid, ip) : HP_E_UNSUPPORTED;
}

hp_status hp_proc_thaw(const hp_proc *p)
{
    if (!usable(p))
        return HP_E_ARG;
    return p->ops->thaw(p->ctx);
}

void hp_proc_pause(const hp_proc *p, unsigned ms)
{
    if (usable(p))
        p->ops->pause(p->ctx, ms);
}

uint64_t hp_proc_clock_ns(const hp_proc *p)
{
    return usable(p) ? p->ops->clock_ns(p->ctx) : 0;
}

void hp_proc_close(hp_proc *p)
{
    if (usable(p))
        p->ops->close(p->ctx);
    if (p)
        memset(p, 0, sizeof *p);
}
