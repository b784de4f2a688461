/*
 * hotpe: the client of hotpe-shim.dll in a target process (Windows builds only), from outside:
 * the target's modules and exports read with ReadProcessMemory, one request run (the block of
 * wire.h written with VirtualAllocEx/WriteProcessMemory, served through the shim's channel,
 * or the first time by hotpe_shim_run on a remote thread that loads the shim itself; the
 * result read back after a bounded wait), and the shim's registry read.
 *
 * A process is an hp_shimc_proc: its HANDLE (void *, as in engine/win.h) and what was
 * learned of it.
 */
#ifndef HOTPE_SHIMCLIENT_H
#define HOTPE_SHIMCLIENT_H

#ifdef _WIN32

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/wire.h"
#include "hotpe/status.h"

/** A module as one listing saw it. */
typedef struct hp_shimc_module {
    char name[256];          /* MAX_MODULE_NAME32 + 1 */
    uint64_t base;
    uint32_t size;
} hp_shimc_module;

/** A target process as this hotpe sees it: its handle, and what one look found, kept for the
 * rest of the verb (a module list, the registry's address): each look is several wineserver
 * round trips. */
typedef struct hp_shimc_proc {
    void *h;                 /* the process's HANDLE (not owned) */
    hp_shimc_module *mods;   /* one snapshot, taken at the first lookup */
    size_t nmods;
    bool listed;             /* mods is current (inject clears it) */
    int other_width;         /* a 32-bit process seen from a 64-bit hotpe: 1; 0: not; -1: unknown */
    uint64_t registry;       /* hotpe_registry's address in the shim at registry_of */
    uint64_t registry_of;
} hp_shimc_proc;

/** A view of process (NULL when out of memory); hp_shimc_proc_free frees it, not the handle. */
hp_shimc_proc *hp_shimc_proc_new(void *process);
void hp_shimc_proc_free(hp_shimc_proc *p);

/** The base of the module named name (file name, case-insensitive) and its SizeOfImage
 * (size: optional); 0 when not loaded or the module list cannot be read. */
uint64_t hp_shimc_find_module(hp_shimc_proc *p, const char *name, uint32_t *size);

/** A malloc'd copy of a whole module image (unreadable pages become zeros);
 * NULL when out of memory. */
uint8_t *hp_shimc_copy_module(void *process, uint64_t base, uint32_t size);

/** A part of a module to read: RVA and length. */
typedef struct hp_shimc_range {
    uint32_t rva, len;
} hp_shimc_range;

/** Read the given parts of a module into img (its size bytes, zeroed by the caller) in whole
 * pages, sorting r and reading neighbouring parts in one ReadProcessMemory; parts past size are
 * cut, unreadable pages stay zero. The bytes read (pages asked for). */
size_t hp_shimc_read_ranges(void *process, uint64_t base, uint8_t *img, uint32_t size,
                            hp_shimc_range *r, size_t n);

/** The address of an export of a module in the process, forwarders followed (read from the
 * process's own copies: nothing assumes equal bases); 0 when not found. */
uint64_t hp_shimc_export(hp_shimc_proc *p, const char *module, const char *name);

/** A copy of a target's registry, read whole under its seqlock (wire.h): the live patches and
 * their sites, strings terminated. */
typedef struct hp_shimc_reg {
    uint64_t shim_base;      /* 0: no shim loaded (nothing else is set) */
    uint64_t registry;       /* the registry's address in the target */
    hp_wire_channel channel; /* the worker's channel (worker 0: none yet) */
    uint32_t count;          /* live patches */
    hp_wire_patch *patches;  /* count of them */
    hp_wire_site **sites;    /* per patch, patches[i].site_count of them */
} hp_shimc_reg;

/**
 * Read the shim's registry: the header, the patch table and every site table, then the seqlock
 * again; read again while it changes. reg is zeroed first; free it with hp_shimc_reg_free.
 * @return HP_OK (shim_base 0 when no shim is loaded), HP_E_LIVE_SHIM (another version, or a
 *         damaged registry), HP_E_PROC_READ, HP_E_NOMEM, HP_E_LIVE_REGISTRY (it kept changing).
 */
hp_status hp_shimc_registry(hp_shimc_proc *p, hp_shimc_reg *reg);
/** The shim next to this hotpe.exe, as a wide path, which exists. @return HP_OK or
 * HP_E_LIVE_SHIM (out holds the path looked at when it fit). */
hp_status hp_shimc_shim_path(wchar_t *out, size_t cap);
/** The same without the tables (count 0, no patches): the shim's base and its channel, for a
 * request that needs nothing else (a revert of 10,000 sites copies none of them). */
hp_status hp_shimc_registry_head(hp_shimc_proc *p, hp_shimc_reg *reg);
void hp_shimc_reg_free(hp_shimc_reg *reg);
/** Live patch i of a copy, as the engine sees a live patch. */
hp_patch_live hp_shimc_live(const hp_shimc_reg *reg, uint32_t i);

/**
 * Run one request (its verb, flags and arguments set by the caller; the header and the
 * requester's identity are set here) and read its result back. res is set on every failure.
 * Through the shim's channel when reg (optional: a registry read of this process) has one,
 * else on a remote thread, which offers the channel and stays as its worker; when reg says no
 * shim is loaded, that thread first loads hotpe-shim.dll (next to this hotpe.exe) itself.
 * @return the shim's status, or HP_E_LIVE_SHIM, HP_E_PROC_ALLOC, HP_E_PROC_WRITE,
 *         HP_E_PROC_READ, HP_E_LIVE_INJECT, HP_E_LIVE_TIMEOUT, HP_E_LIVE_REQUEST.
 */
hp_status hp_shimc_request(hp_shimc_proc *p, const hp_shimc_reg *reg, hp_wire_request *req,
                           hp_wire_result *res);

#endif /* _WIN32 */
#endif
