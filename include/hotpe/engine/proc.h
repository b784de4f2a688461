/*
 * hotpe: process access for the applier. One interface (a table of operations and an opaque
 * context) with three back-ends: the current process (proc_self.c), another process by pid
 * (proc_remote.c), and an in-memory fake with fault injection for native unit tests
 * (proc_fake.c). The transaction (txn.h) only ever talks to a process through this table, so
 * the patching hygiene (protect -> write -> restore -> flush, atomic entry store, freeze) is
 * implemented once per back-end and exercised natively through the fake.
 *
 * Addresses are virtual addresses in the target process, always 64-bit here.
 */
#ifndef HOTPE_PROC_H
#define HOTPE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/status.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** A thread as the current freeze saw it. */
typedef struct hp_proc_thread {
    uint32_t tid;
    uint64_t ip;             /* 0: not started yet (it has run no code) */
    uint64_t sp;
    uint64_t stack_top;      /* the upper end of its stack (exclusive); 0: unknown */
} hp_proc_thread;

/** The operations of a back-end; ctx is the back-end's own state. */
typedef struct hp_proc_ops {
    /* Copy n bytes at addr into buf. HP_E_PROC_READ. */
    hp_status (*read)(void *ctx, uint64_t addr, void *buf, size_t n);
    /* Make the pages writable, copy, restore each page's protection, flush the icache.
     * HP_E_PROC_PROTECT, HP_E_PROC_WRITE, HP_E_PROC_FLUSH. */
    hp_status (*write)(void *ctx, uint64_t addr, const void *buf, size_t n);
    /* Store 2 bytes as one 16-bit store (the entry jump). HP_E_PROC_STRADDLE,
     * HP_E_PROC_PROTECT, HP_E_PROC_WRITE. */
    hp_status (*store2)(void *ctx, uint64_t addr, const uint8_t bytes[2]);
    /* Executable, CFG-invalid memory within ±2 GiB of near. HP_E_PROC_ALLOC. */
    hp_status (*alloc_near)(void *ctx, uint64_t near_addr, size_t size, uint64_t *out);
    /* Release what alloc_near returned. HP_E_PROC_FREE. */
    hp_status (*free)(void *ctx, uint64_t addr);
    /* HP_E_PROC_FLUSH. */
    hp_status (*flush_icache)(void *ctx, uint64_t addr, size_t n);
    /* Optional (NULL: nothing to do). Find the other threads without suspending any, before
     * the freeze window opens, so that freeze stops each with one call while they still
     * compete for the CPU. Failures are left for freeze to report. */
    void (*learn_threads)(void *ctx);
    /* Optional. Before a freeze: keep the other threads off one CPU and the calling thread on
     * it, so that the window's system calls do not wait behind busy threads for a time slice
     * (under Wine each is a wineserver round trip). release puts every thread's own affinity
     * back; the transaction calls it while the threads are still frozen, just before the thaw
     * (or after a freeze that failed). Best effort: a failure only loses the speed-up. */
    void (*confine)(void *ctx);
    void (*release)(void *ctx);
    /* Suspend every other thread (until no new one appears), then read their contexts.
     * On failure nothing stays suspended. HP_E_PROC_FREEZE, HP_E_PROC_CONTEXT,
     * HP_E_PROC_THREADS, HP_E_UNSUPPORTED. */
    hp_status (*freeze)(void *ctx);
    /* The frozen threads: *count gets their number, at most cap are copied.
     * HP_E_TXN_STATE when not frozen. */
    hp_status (*threads)(void *ctx, hp_proc_thread *out, size_t cap, size_t *count);
    /* Optional (NULL: threads are never moved). While frozen, make thread tid continue at ip
     * (SetThreadContext): the transaction moves a thread that sits on a jump it removes to
     * where that jump goes, as Detours and MinHook move threads out of code they rewrite.
     * HP_E_PROC_CONTEXT, HP_E_TXN_STATE when not frozen. */
    hp_status (*set_ip)(void *ctx, uint32_t tid, uint64_t ip);
    /* Resume what freeze suspended. HP_E_PROC_THAW (every thread is still tried). */
    hp_status (*thaw)(void *ctx);
    /* Let threads run for about ms milliseconds between freeze attempts. */
    void (*pause)(void *ctx, unsigned ms);
    /* A monotonic clock in nanoseconds, for the transaction's timings. */
    uint64_t (*clock_ns)(void *ctx);
    /* Release the back-end's resources (thaws first if frozen). */
    void (*close)(void *ctx);
} hp_proc_ops;

/** A process as the applier sees it. */
typedef struct hp_proc {
    const hp_proc_ops *ops;
    void *ctx;
    bool x64;                /* the target's pointers are 8 bytes */
} hp_proc;

/** An address's 2 bytes lie in one 64-byte cache line (Intel SDM 3A 8.1.1: atomic store). */
static inline bool hp_proc_store2_atomic_ok(uint64_t addr)
{
    return (addr & 63u) != 63u;
}

/* ------------------------------------------------------------------------------------------ */
/* Functions: thin checked wrappers, one per operation                                        */
/* ------------------------------------------------------------------------------------------ */

/** @param p in: the process  @return HP_E_ARG or the back-end's status (see hp_proc_ops). */
hp_status hp_proc_read(const hp_proc *p, uint64_t addr, void *buf, size_t n);
/** @return HP_E_ARG or the back-end's status. */
hp_status hp_proc_write(const hp_proc *p, uint64_t addr, const void *buf, size_t n);
/** @return HP_E_ARG, HP_E_PROC_STRADDLE (checked here for every back-end), or the back-end's. */
hp_status hp_proc_store2(const hp_proc *p, uint64_t addr, const uint8_t bytes[2]);
/** @param out out: the address  @return HP_E_ARG or the back-end's status. */
hp_status hp_proc_alloc_near(const hp_proc *p, uint64_t near_addr, size_t size, uint64_t *out);
/** @return HP_E_ARG or the back-end's status. */
hp_status hp_proc_free(const hp_proc *p, uint64_t addr);
/** @return HP_E_ARG or the back-end's status. */
hp_status hp_proc_flush_icache(const hp_proc *p, uint64_t addr, size_t n);
/** Learn the threads ahead of a freeze (no-op on a NULL process or without the op). */
void hp_proc_learn_threads(const hp_proc *p);
/** Confine the other threads ahead of a freeze, and release them after (no-ops without the op). */
void hp_proc_confine(const hp_proc *p);
void hp_proc_release(const hp_proc *p);
/** @return HP_E_ARG or the back-end's status. */
hp_status hp_proc_freeze(const hp_proc *p);
/** @return HP_E_ARG or the back-end's status. */
hp_status hp_proc_threads(const hp_proc *p, hp_proc_thread *out, size_t cap, size_t *count);
/** Whether the back-end can move a frozen thread (set_ip). */
bool hp_proc_can_set_ip(const hp_proc *p);
/** @return HP_E_ARG, HP_E_UNSUPPORTED (no set_ip), or the back-end's status. */
hp_status hp_proc_set_ip(const hp_proc *p, uint32_t tid, uint64_t ip);
/** @return HP_E_ARG or the back-end's status. */
hp_status hp_proc_thaw(const hp_proc *p);
/** Sleep about ms milliseconds (no-op on a NULL process). */
void hp_proc_pause(const hp_proc *p, unsigned ms);
/** Monotonic nanoseconds (0 on a NULL process). */
uint64_t hp_proc_clock_ns(const hp_proc *p);
/** Release the back-end; p is zeroed. Safe on a zeroed process. */
void hp_proc_close(hp_proc *p);

/* ------------------------------------------------------------------------------------------ */
/* Back-ends                                                                                  */
/* ------------------------------------------------------------------------------------------ */

#ifdef _WIN32
/**
 * The current process (Windows only).
 * @param out out: the process; hp_proc_close releases it
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, HP_E_UNSUPPORTED.
 */
hp_status hp_proc_self_open(hp_proc *out);

/**
 * Another process by pid (Windows only). freeze returns
 * HP_E_UNSUPPORTED: threads are frozen in-process by the shim.
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, HP_E_PROC_OPEN, HP_E_UNSUPPORTED.
 */
hp_status hp_proc_remote_open(hp_proc *out, uint32_t pid);

#endif

/* The fake: simulated regions and threads, and fault injection. ----------------------------- */

/** Kinds of fake operations, for counting and for fault injection. */
typedef enum hp_proc_fake_op {
    HP_FAKE_OP_ANY = 0,      /* matches every kind */
    HP_FAKE_OP_READ,
    HP_FAKE_OP_PROTECT,      /* each protection change, and each restore, inside write/store2 */
    HP_FAKE_OP_WRITE,
    HP_FAKE_OP_STORE2,
    HP_FAKE_OP_ALLOC,
    HP_FAKE_OP_FREE,
    HP_FAKE_OP_FLUSH,
    HP_FAKE_OP_FREEZE,
    HP_FAKE_OP_IPS,
    HP_FAKE_OP_THAW,
    HP_FAKE_OP_SET_IP,
    HP_FAKE_OP_CONFINE,      /* counted, never failed, not part of HP_FAKE_OP_ANY */
    HP_FAKE_OP_RELEASE,      /* likewise */
    HP_FAKE_OP_COUNT
} hp_proc_fake_op;

/** Fake page protections (bits). */
enum { HP_FAKE_R = 1, HP_FAKE_W = 2, HP_FAKE_X = 4 };

typedef struct hp_proc_fake hp_proc_fake;

/**
 * A fake process with no memory and no threads.
 * @param out   out: the process; hp_proc_close frees the fake too
 * @param fake  out: the fake, to configure and inspect
 * @param x64   in: pointer size of the simulated target
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM.
 */
hp_status hp_proc_fake_open(hp_proc *out, hp_proc_fake **fake, bool x64);
/**
 * Map a region (copied from init, or zeroed when init is NULL).
 * @return HP_OK, HP_E_ARG (overlap, size 0), HP_E_NOMEM.
 */
hp_status hp_proc_fake_map(hp_proc_fake *f, uint64_t base, size_t size, unsigned prot,
                           const void *init);
/** Direct view of simulated memory (no operation counted); NULL when [addr, addr+n) is unmapped. */
uint8_t *hp_proc_fake_mem(hp_proc_fake *f, uint64_t addr, size_t n);
/** Protection of the region holding addr, or -1 when unmapped. */
int hp_proc_fake_prot(const hp_proc_fake *f, uint64_t addr);
/** Number of mapped regions (allocations included). */
size_t hp_proc_fake_region_count(const hp_proc_fake *f);
/**
 * Add a thread at ip. After `moves_after` thaws it moves to next_ip (0: never moves).
 * @return HP_OK, HP_E_NOMEM.
 */
hp_status hp_proc_fake_thread(hp_proc_fake *f, uint64_t ip, unsigned moves_after, uint64_t next_ip);
/** The ip of the thread added index-th (0-based); 0 when there is no such thread. */
uint64_t hp_proc_fake_thread_ip(const hp_proc_fake *f, size_t index);
/** Whether threads are currently frozen. */
bool hp_proc_fake_frozen(const hp_proc_fake *f);
/** Whether the other threads are confined (confine called, release not yet). */
bool hp_proc_fake_confined(const hp_proc_fake *f);
/** Thaws that let the threads run while still confined. */
unsigned hp_proc_fake_thaws_confined(const hp_proc_fake *f);
/** Make the nth next operation of a kind fail (n = 1: the next one); 0 disarms. */
void hp_proc_fake_fail_at(hp_proc_fake *f, hp_proc_fake_op kind, unsigned n);
/** Operations of a kind since open (HP_FAKE_OP_ANY: all kinds). */
unsigned hp_proc_fake_ops(const hp_proc_fake *f, hp_proc_fake_op kind);

#endif
