/*
 * hotpe: the applier's transaction (txn.h). The patching hygiene lives here once: validate,
 * freeze and check IPs, write in the safe order, flush, thaw, and undo on any failure.
 */
#include <string.h>

#include "hotpe/engine/txn.h"

enum { TXN_IDLE, TXN_OPEN, TXN_DONE };

struct hp_txn_op {
    hp_txn_op *next;
    bool revert;
    hp_txn_site site;
};

struct hp_txn_alloc_rec {
    hp_txn_alloc_rec *next;
    uint64_t addr;
};

struct hp_txn_guard_rec {
    hp_txn_guard_rec *next;
    uint64_t addr, len;
};

/* One write done (or attempted) by commit, with what was there before: the undo log. */
typedef struct undo_rec {
    hp_txn_step what;        /* AUX, PADDING or ENTRY */
    uint64_t addr;
    uint8_t len;
    uint8_t old[HP_TXN_AUX_MAX];
} undo_rec;

static const char *const step_names[] = {
    "none", "stage", "validate", "freeze", "threads", "aux", "padding", "entry", "flush", "thaw",
    "cfg",
};

const char *hp_txn_step_name(hp_txn_step s)
{
    return (unsigned)s < sizeof step_names / sizeof *step_names ? step_names[s] : "?";
}

hp_status hp_txn_begin(hp_txn *txn, const hp_proc *proc, hp_arena *arena)
{
    if (!txn || !proc || !proc->ops || !arena)
        return HP_E_ARG;
    memset(txn, 0, sizeof *txn);
    txn->proc = proc;
    txn->arena = arena;
    txn->state = TXN_OPEN;
    txn->error_site = UINT32_MAX;
    return HP_OK;
}

/* Remember the first staging error; later ones are the consequence of it or less useful. */
static hp_status stick(hp_txn *txn, hp_status s, uint32_t site)
{
    if (txn->error == HP_OK) {
        txn->error = s;
        txn->error_site = site;
    }
    return s;
}

hp_status hp_txn_alloc(hp_txn *txn, uint64_t near_addr, size_t size, uint64_t *out)
{
    if (!txn || !out)
        return HP_E_ARG;
    if (txn->state != TXN_OPEN)
        return HP_E_TXN_STATE;
    hp_txn_alloc_rec *rec = hp_arena_alloc(txn->arena, sizeof *rec);
    if (!rec)
        return stick(txn, HP_E_NOMEM, UINT32_MAX);
    hp_status s = hp_proc_alloc_near(txn->proc, near_addr, size, out);
    if (s != HP_OK)
        return stick(txn, s, UINT32_MAX);
    rec->addr = *out;
    rec->next = txn->allocs;
    txn->allocs = rec;
    return HP_OK;
}

/* [a, a+an) and [b, b+bn) share a byte. */
static bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
    return a < b + bn && b < a + an;
}

/* ---- overlap of staged sites: a hash of 16-byte cells --------------------------------------
 * A staged op is entered in every cell its ranges touch (padding + entry: up to 13 bytes; aux:
 * up to 16), so a new range that overlaps it shares a cell with it: staging stays O(1) per
 * site, not a scan of every site staged before (10,000 sites). Paddings are compared with
 * paddings and auxes with auxes, as separate key spaces. */

struct hp_txn_cell {
    hp_txn_cell *next;
    uint64_t key;            /* cell number * 2 + (1 for an aux range) */
    const hp_txn_op *op;
};

static uint64_t cell_key(uint64_t addr, bool aux)
{
    return (addr >> 4) * 2 + aux;
}

static size_t cell_bucket(const hp_txn *txn, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (txn->ncell_buckets - 1);
}

/* Double the bucket array (the old one stays in the arena until it is freed). */
static bool cells_grow(hp_txn *txn)
{
    size_t n = txn->ncell_buckets ? txn->ncell_buckets * 2 : 256;
    hp_txn_cell **b = hp_arena_array(txn->arena, n, sizeof *b);
    if (!b)
        return false;
    hp_txn_cell **old = txn->cell_buckets;
    size_t nold = txn->ncell_buckets;
    txn->cell_buckets = b;
    txn->ncell_buckets = n;
    for (size_t i = 0; i < nold; i++)
        for (hp_txn_cell *c = old[i], *next; c; c = next) {
            next = c->next;
            size_t k = cell_bucket(txn, c->key);
            c->next = b[k];
            b[k] = c;
        }
    return true;
}

static bool range_of(const hp_txn_site *s, bool aux, uint64_t *addr, uint64_t *len)
{
    *addr = aux ? s->aux_addr : s->pad_addr;
    *len = aux ? s->aux_len : (uint64_t)s->pad_len + s->entry_len;
    return *len != 0;
}

static bool cells_add(hp_txn *txn, const hp_txn_op *op)
{
    for (int aux = 0; aux < 2; aux++) {
        uint64_t a, n;
        if (!range_of(&op->site, aux, &a, &n))
            continue;
        for (uint64_t cell = a >> 4; cell <= (a + n - 1) >> 4; cell++) {
            if (txn->ncells >= txn->ncell_buckets && !cells_grow(txn))
                return false;
            hp_txn_cell *c = hp_arena_alloc(txn->arena, sizeof *c);
            if (!c)
                return false;
            c->key = cell_key(cell << 4, aux);
            c->op = op;
            size_t k = cell_bucket(txn, c->key);
            c->next = txn->cell_buckets[k];
            txn->cell_buckets[k] = c;
            txn->ncells++;
        }
    }
    return true;
}

static bool cells_overlap(const hp_txn *txn, const hp_txn_site *site)
{
    for (int aux = 0; aux < 2 && txn->ncell_buckets; aux++) {
        uint64_t a, n, b, m;
        if (!range_of(site, aux, &a, &n))
            continue;
        for (uint64_t cell = a >> 4; cell <= (a + n - 1) >> 4; cell++) {
            uint64_t key = cell_key(cell << 4, aux);
            for (const hp_txn_cell *c = txn->cell_buckets[cell_bucket(txn, key)]; c; c = c->next)
                if (c->key == key && range_of(&c->op->site, aux, &b, &m) && overlaps(a, n, b, m))
                    return true;
        }
    }
    return false;
}

static hp_status stage(hp_txn *txn, const hp_txn_site *site, bool revert)
{
    if (!txn || !site)
        return HP_E_ARG;
    if (txn->state != TXN_OPEN)
        return HP_E_TXN_STATE;
    uint32_t index = txn->nops;
    if ((site->entry_len != 2 && site->entry_len != HP_TXN_ENTRY_MAX) ||
        site->pad_len > HP_TXN_PAD_MAX || site->aux_len > HP_TXN_AUX_MAX ||
        site->pad_addr + site->pad_len != site->entry ||
        site->entry + site->entry_len < site->entry ||
        (site->aux_len && (!site->aux_addr || site->aux_addr + site->aux_len < site->aux_addr)))
        return stick(txn, HP_E_ARG, index);
    if (site->entry_len == 2 && !hp_proc_store2_atomic_ok(site->entry))
        return stick(txn, HP_E_PROC_STRADDLE, index);
    if (cells_overlap(txn, site))
        return stick(txn, HP_E_TXN_OVERLAP, index);
    hp_txn_op *o = hp_arena_alloc(txn->arena, sizeof *o);
    if (!o)
        return stick(txn, HP_E_NOMEM, index);
    o->revert = revert;
    o->site = *site;
    if (!cells_add(txn, o))
        return stick(txn, HP_E_NOMEM, index);
    if (txn->ops_tail)
        txn->ops_tail->next = o;
    else
        txn->ops_head = o;
    txn->ops_tail = o;
    txn->nops++;
    return HP_OK;
}

hp_status hp_txn_guard(hp_txn *txn, uint64_t addr, uint64_t len)
{
    if (!txn)
        return HP_E_ARG;
    if (txn->state != TXN_OPEN)
        return HP_E_TXN_STATE;
    if (!len || addr + len < addr)
        return stick(txn, HP_E_ARG, UINT32_MAX);
    hp_txn_guard_rec *g = hp_arena_alloc(txn->arena, sizeof *g);
    if (!g)
        return stick(txn, HP_E_NOMEM, UINT32_MAX);
    *g = (hp_txn_guard_rec){ txn->guards, addr, len };
    txn->guards = g;
    return HP_OK;
}

hp_status hp_txn_stage_site(hp_txn *txn, const hp_txn_site *site)
{
    return stage(txn, site, false);
}

hp_status hp_txn_stage_revert(hp_txn *txn, const hp_txn_site *site)
{
    return stage(txn, site, true);
}

/* Release hp_txn_alloc memory (abort, failed commit); the first failure is returned. */
static hp_status free_allocs(hp_txn *txn)
{
    hp_status first = HP_OK;
    for (hp_txn_alloc_rec *r = txn->allocs; r; r = r->next) {
        hp_status s = hp_proc_free(txn->proc, r->addr);
        if (first == HP_OK)
            first = s;
    }
    txn->allocs = NULL;
    return first;
}

hp_status hp_txn_abort(hp_txn *txn)
{
    if (!txn)
        return HP_E_ARG;
    if (txn->state != TXN_OPEN)
        return HP_E_TXN_STATE;
    txn->state = TXN_DONE;
    return free_allocs(txn);
}

/* A padding made only of int3 has never run: the site is fresh (docs/live.md). An
 * entry jump of 5 bytes is never fresh: only a frozen process may see it written. */
static bool fresh(const hp_txn_op *o)
{
    if (o->revert || o->site.entry_len != 2 || !o->site.pad_len)
        return false;
    for (unsigned i = 0; i < o->site.pad_len; i++)
        if (o->site.old_pad[i] != 0xCC)
            return false;
    return true;
}

/* Where a thread at ip goes next when it sits on the start of a jump this op changes, else 0:
 * the padding jump of a site being reverted or superseded, or a reverted site's stub
 * (aux_addr; its block is guarded by the caller). */
static uint64_t move_target(const hp_txn_op *op, uint64_t ip)
{
    const hp_txn_site *s = &op->site;
    uint64_t to = op->revert ? s->new_to : s->old_to;
    if (to && ((s->pad_len && ip == s->pad_addr) || (op->revert && s->aux_addr && ip == s->aux_addr)))
        return to;
    return 0;
}

/* Whether a thread's IP lies in bytes about to change (*site: the first such site) or in a
 * guarded range (*site: UINT32_MAX). An IP exactly at the entry is not busy: an instruction
 * starts there before and after the write (the first instruction, or the entry jump), and the thread,
 * frozen, has not begun it; on the next run it executes whichever is there. Threads calling a
 * hot function sit there often. A thread on a jump being changed is not busy either when it
 * can be moved to the jump's target: moves[t] gets that (0: stays). */
static bool busy(const hp_txn *txn, hp_txn_op *const *ops, uint32_t n, const hp_proc_thread *th,
                 size_t nth, bool can_move, uint64_t *moves, uint32_t *site)
{
    memset(moves, 0, nth * sizeof *moves);
    for (uint32_t i = 0; i < n; i++) {
        const hp_txn_site *s = &ops[i]->site;
        for (size_t t = 0; t < nth; t++) {
            uint64_t ip = th[t].ip;
            if (ip == s->entry || moves[t])
                continue;
            if (can_move && (moves[t] = move_target(ops[i], ip)) != 0)
                continue;
            if (overlaps(s->pad_addr, (uint64_t)s->pad_len + s->entry_len, ip, 1) ||
                (!ops[i]->revert && s->aux_len && overlaps(s->aux_addr, s->aux_len, ip, 1))) {
                *site = i;
                return true;
            }
        }
    }
    for (const hp_txn_guard_rec *g = txn->guards; g; g = g->next)
        for (size_t t = 0; t < nth; t++)
            if (!moves[t] && overlaps(g->addr, g->len, th[t].ip, 1)) {
                *site = UINT32_MAX;
                return true;
            }
    return false;
}

typedef struct commit_ctx {
    hp_txn *txn;
    hp_txn_result *res;
    undo_rec *log;
    uint32_t nlog;
} commit_ctx;

static hp_status fail(commit_ctx *c, hp_status s, hp_txn_step step, uint32_t site)
{
    if (c->res->status == HP_OK) {
        c->res->status = s;
        c->res->failed_step = step;
        c->res->failed_site = site;
    }
    return s;
}

/* Log a write before doing it: a write that fails half-way (bytes stored, protection not
 * restored) is then undone too; undoing one that stored nothing rewrites the same bytes. */
static hp_status do_write(commit_ctx *c, hp_txn_step what, uint32_t site, uint64_t addr,
                          const uint8_t *old, const uint8_t *bytes, uint8_t len)
{
    undo_rec *u = &c->log[c->nlog++];
    u->what = what;
    u->addr = addr;
    u->len = len;
    memcpy(u->old, old, len);
    const hp_proc *p = c->txn->proc;
    hp_status s = what == HP_TXN_STEP_ENTRY && len == 2 ? hp_proc_store2(p, addr, bytes)
                                                        : hp_proc_write(p, addr, bytes, len);
    return s == HP_OK ? HP_OK : fail(c, s, what, site);
}

/* Undo every logged write, newest first: entry bytes before padding before slots. */
static bool undo_all(commit_ctx *c)
{
    bool ok = true;
    const hp_proc *p = c->txn->proc;
    while (c->nlog) {
        const undo_rec *u = &c->log[--c->nlog];
        hp_status s = u->what == HP_TXN_STEP_ENTRY && u->len == 2
                          ? hp_proc_store2(p, u->addr, u->old)
                          : hp_proc_write(p, u->addr, u->old, u->len);
        if (s != HP_OK)
            ok = false;
    }
    return ok;
}

/* Validate, and fill the journal with the bytes there now. */
static hp_status validate(commit_ctx *c, hp_txn_op *const *ops, uint32_t n)
{
    const hp_proc *p = c->txn->proc;
    for (uint32_t i = 0; i < n; i++) {
        const hp_txn_site *s = &ops[i]->site;
        hp_txn_site *j = &c->res->journal[i];
        uint8_t cur[HP_TXN_PAD_MAX + HP_TXN_ENTRY_MAX];
        hp_status st = hp_proc_read(p, s->pad_addr, cur, (size_t)s->pad_len + s->entry_len);
        if (st != HP_OK)
            return fail(c, st, HP_TXN_STEP_VALIDATE, i);
        const uint8_t *want_pad = ops[i]->revert ? s->new_pad : s->old_pad;
        const uint8_t *want_entry = ops[i]->revert ? s->new_entry : s->old_entry;
        if (memcmp(cur, want_pad, s->pad_len) || memcmp(cur + s->pad_len, want_entry, s->entry_len))
            return fail(c, HP_E_TXN_VALIDATION, HP_TXN_STEP_VALIDATE, i);
        *j = *s;
        if (ops[i]->revert) {
            /* the journal says what this commit did: old = patched bytes, new = original */
            memcpy(j->old_pad, s->new_pad, s->pad_len);
            memcpy(j->new_pad, s->old_pad, s->pad_len);
            memcpy(j->old_entry, s->new_entry, s->entry_len);
            memcpy(j->new_entry, s->old_entry, s->entry_len);
            j->old_to = s->new_to;
            j->new_to = s->old_to;
            j->aux_addr = 0;
            j->aux_len = 0;
        } else if (s->aux_len) {
            st = hp_proc_read(p, s->aux_addr, j->old_aux, s->aux_len);
            if (st != HP_OK)
                return fail(c, st, HP_TXN_STEP_VALIDATE, i);
        }
    }
    return HP_OK;
}

/* Move the threads busy() marked; false when one refused (nothing else is undone: a moved
 * thread is where its jump would have taken it). */
static bool move_threads(commit_ctx *c, const hp_proc_thread *th, const uint64_t *moves,
                         size_t nth)
{
    for (size_t t = 0; t < nth; t++) {
        if (!moves[t])
            continue;
        if (hp_proc_set_ip(c->txn->proc, th[t].tid, moves[t]) != HP_OK)
            return false;
        c->res->moved++;
    }
    return true;
}

/* Freeze until no thread is inside bytes about to change (once those on a jump being changed
 * are moved), or give up. A back-end that cannot move a thread is waited for instead. */
static hp_status freeze_quiet(commit_ctx *c, hp_txn_op *const *ops, uint32_t n,
                              const hp_txn_options *o, hp_proc_thread *th, uint64_t *moves,
                              size_t cap, uint64_t *window_start)
{
    const hp_proc *p = c->txn->proc;
    unsigned retries = o->max_retries ? o->max_retries : 20;
    unsigned pause_ms = o->retry_pause_ms ? o->retry_pause_ms : 1;
    bool can_move = hp_proc_can_set_ip(p);
    for (unsigned attempt = 0;; attempt++) {
        c->res->freeze_attempts++;
        *window_start = hp_proc_clock_ns(p);
        hp_status s = hp_proc_freeze(p);
        if (s != HP_OK)
            return fail(c, s, HP_TXN_STEP_FREEZE, UINT32_MAX);
        size_t count = 0;
        s = hp_proc_threads(p, th, cap, &count);
        if (s == HP_OK && count > cap)
            s = HP_E_PROC_THREADS;
        uint32_t busy_at = UINT32_MAX;
        if (s == HP_OK && !busy(c->txn, ops, n, th, count, can_move, moves, &busy_at)) {
            if (move_threads(c, th, moves, count)) {
                c->res->threads = count;
                return HP_OK;
            }
            can_move = false; /* wait for them from now on */
        }
        /* nothing is written yet: just let the threads go (a failed thaw is tried once more) */
        if (hp_proc_thaw(p) != HP_OK && hp_proc_thaw(p) != HP_OK)
            return fail(c, HP_E_PROC_THAW, HP_TXN_STEP_THAW, UINT32_MAX);
        if (s != HP_OK)
            return fail(c, s, HP_TXN_STEP_THREADS, UINT32_MAX);
        if (attempt >= retries)
            return fail(c, HP_E_TXN_BUSY, HP_TXN_STEP_THREADS, busy_at);
        /* backing off: a busy thread that lost its CPU runs again only when the others let
         * it, and each freeze spends its turn in the suspend handler (Wine) */
        hp_proc_pause(p, pause_ms << (attempt / 8 < 4 ? attempt / 8 : 4));
    }
}

/* Aux and padding of applied sites, every entry, then padding of reverted sites. */
static hp_status write_all(commit_ctx *c, hp_txn_op *const *ops, uint32_t n)
{
    const hp_txn_result *r = c->res;
    for (uint32_t i = 0; i < n; i++) {
        const hp_txn_site *s = &ops[i]->site;
        if (ops[i]->revert)
            continue;
        if (s->aux_len)
            HP_CHECK(do_write(c, HP_TXN_STEP_AUX, i, s->aux_addr, r->journal[i].old_aux, s->aux,
                              s->aux_len));
        if (s->pad_len)
            HP_CHECK(do_write(c, HP_TXN_STEP_PADDING, i, s->pad_addr, s->old_pad, s->new_pad,
                              s->pad_len));
    }
    for (uint32_t i = 0; i < n; i++) {
        const hp_txn_site *j = &r->journal[i];
        HP_CHECK(do_write(c, HP_TXN_STEP_ENTRY, i, j->entry, j->old_entry, j->new_entry,
                          j->entry_len));
    }
    for (uint32_t i = 0; i < n; i++) {
        const hp_txn_site *j = &r->journal[i];
        if (ops[i]->revert && j->pad_len)
            HP_CHECK(do_write(c, HP_TXN_STEP_PADDING, i, j->pad_addr, j->old_pad, j->new_pad,
                              j->pad_len));
    }
    for (uint32_t i = 0; i < n; i++) {
        const hp_txn_site *s = &ops[i]->site;
        hp_status st = hp_proc_flush_icache(c->txn->proc, s->pad_addr,
                                            (size_t)s->pad_len + s->entry_len);
        if (st != HP_OK)
            return fail(c, st, HP_TXN_STEP_FLUSH, i);
    }
    return HP_OK;
}

/* Everything commit needs, allocated before any thread is suspended (heap locks): the ops in
 * staging order, the journal, the undo log and the thread table. */
static hp_status prepare(commit_ctx *c, const hp_txn_options *o, hp_txn_op ***ops,
                         hp_proc_thread **th, uint64_t **moves, size_t *cap, bool *all_fresh)
{
    hp_txn *txn = c->txn;
    uint32_t n = txn->nops;
    *cap = o->max_threads ? o->max_threads : 4096;
    *ops = hp_arena_array(txn->arena, n ? n : 1, sizeof **ops);
    c->res->journal = hp_arena_array(txn->arena, n ? n : 1, sizeof *c->res->journal);
    c->log = hp_arena_array(txn->arena, 3u * (n ? n : 1), sizeof *c->log);
    *th = hp_arena_array(txn->arena, *cap, sizeof **th);
    *moves = hp_arena_array(txn->arena, *cap, sizeof **moves);
    if (!*ops || !c->res->journal || !c->log || !*th || !*moves)
        return fail(c, HP_E_NOMEM, HP_TXN_STEP_VALIDATE, UINT32_MAX);
    *all_fresh = txn->guards == NULL;
    uint32_t k = 0;
    for (hp_txn_op *op = txn->ops_head; op; op = op->next) {
        (*ops)[k++] = op;
        *all_fresh = *all_fresh && fresh(op);
    }
    return HP_OK;
}

/* Validation, then the caller's CFG step: nothing is written yet. *t: when they ended. */
static hp_status before_writes(commit_ctx *c, hp_txn_op *const *ops, const hp_txn_options *o,
                               uint64_t *t)
{
    const hp_proc *p = c->txn->proc;
    uint64_t t0 = hp_proc_clock_ns(p);
    hp_status s = validate(c, ops, c->txn->nops);
    *t = hp_proc_clock_ns(p);
    c->res->ns_validate = *t - t0;
    if (s != HP_OK || !o->cfg)
        return s;
    s = o->cfg(o->cfg_ctx);
    uint64_t t1 = hp_proc_clock_ns(p);
    c->res->ns_cfg = t1 - *t;
    *t = t1;
    return s == HP_OK ? HP_OK : fail(c, s, HP_TXN_STEP_CFG, UINT32_MAX);
}

/* After the writes (s: how they went): own affinities back while the threads are still frozen
 * (the calls are quick now, and no thread runs confined after the window), then the thaw. A
 * failed thaw leaves them frozen: undo while it is safe, then let them go again. */
static hp_status thaw_after(commit_ctx *c, hp_status s, uint64_t window_start, uint64_t t3)
{
    const hp_proc *p = c->txn->proc;
    hp_proc_release(p);
    uint64_t tr = hp_proc_clock_ns(p);
    c->res->ns_confine += tr - t3;
    hp_status ts = hp_proc_thaw(p);
    if (ts != HP_OK) {
        fail(c, ts, HP_TXN_STEP_THAW, UINT32_MAX);
        if (s == HP_OK && !undo_all(c))
            c->res->undo_failed = true;
        s = ts;
        (void)hp_proc_thaw(p); /* the status already says THAW if this fails too */
    }
    uint64_t t4 = hp_proc_clock_ns(p);
    c->res->ns_thaw = t4 - tr;
    c->res->ns_window = t4 - window_start;
    return s;
}

hp_status hp_txn_commit(hp_txn *txn, const hp_txn_options *opts, hp_txn_result *result)
{
    if (!txn || !result)
        return HP_E_ARG;
    memset(result, 0, sizeof *result);
    result->failed_site = UINT32_MAX;
    if (txn->state != TXN_OPEN)
        return result->status = HP_E_TXN_STATE;
    txn->state = TXN_DONE;
    hp_txn_options defaults = { 0 };
    const hp_txn_options *o = opts ? opts : &defaults;
    const hp_proc *p = txn->proc;
    commit_ctx c = { txn, result, NULL, 0 };
    result->nsites = txn->nops;

    hp_txn_op **ops = NULL;
    hp_proc_thread *th = NULL;
    uint64_t *moves = NULL;
    size_t cap = 0;
    bool all_fresh = false;
    uint64_t t1 = 0, window_start = 0;
    hp_status s = txn->error != HP_OK ? fail(&c, txn->error, HP_TXN_STEP_STAGE, txn->error_site)
                                      : prepare(&c, o, &ops, &th, &moves, &cap, &all_fresh);
    if (s == HP_OK)
        s = before_writes(&c, ops, o, &t1);
    bool freeze = s == HP_OK && !(o->no_freeze && all_fresh);
    if (freeze) {
        hp_proc_learn_threads(p); /* before the window opens */
        hp_proc_confine(p);
        uint64_t tc = hp_proc_clock_ns(p);
        result->ns_confine = tc - t1;
        t1 = tc;
        s = freeze_quiet(&c, ops, txn->nops, o, th, moves, cap, &window_start);
        if (s != HP_OK)
            hp_proc_release(p);
        result->froze = s == HP_OK;
        result->ns_freeze = hp_proc_clock_ns(p) - t1;
    }
    if (s != HP_OK) {
        free_allocs(txn);
        return s;
    }
    uint64_t t2 = hp_proc_clock_ns(p);
    s = write_all(&c, ops, txn->nops);
    if (s != HP_OK && !undo_all(&c))
        result->undo_failed = true;
    uint64_t t3 = hp_proc_clock_ns(p);
    result->ns_write = t3 - t2;
    if (freeze)
        s = thaw_after(&c, s, window_start, t3);
    if (s != HP_OK) {
        free_allocs(txn);
        return result->undo_failed ? HP_E_TXN_UNDO : result->status;
    }
    return HP_OK;
}
