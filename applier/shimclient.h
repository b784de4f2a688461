/*
 * hotpe: the client of hotpe-shim.dll in a target process (Windows builds only), from outside:
 * the target's modules and exports read with ReadProcessMemory, the shim injected
 * (CreateRemoteThread at the target's LoadLibraryW), one request run (the block of wire.h
 * written with VirtualAllocEx/WriteProcessMemory, hotpe_shim_run run on it by a remote thread,
 * the result read back after a bounded wait), and the shim's registry read.
 *
 * A process is its HANDLE passed as void *, as in engine/win.h.
 */
#ifndef HOTPE_SHIMCLIENT_H
#define HOTPE_SHIMCLIENT_H

#ifdef _WIN32

#include <stdint.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/wire.h"
#include "hotpe/status.h"

/** The base of the module named name (file name, case-insensitive) and its SizeOfImage
 * (size: optional); 0 when not loaded or the module list cannot be read. */
uint64_t hp_shimc_find_module(void *process, const char *name, uint32_t *size);

/** A malloc'd copy of a module's image, page by page (unreadable pages become zeros);
 * NULL when out of memory. */
uint8_t *hp_shimc_copy_module(void *process, uint64_t base, uint32_t size);

/** The address of an export of a module in the process, forwarders followed (read from the
 * process's own copies: nothing assumes equal bases); 0 when not found. */
uint64_t hp_shimc_export(void *process, const char *module, const char *name);

/**
 * Load hotpe-shim.dll (next to this hotpe.exe) into the process unless it is there.
 * @return HP_OK (*shim_base set), HP_E_LIVE_SHIM, HP_E_LIVE_INJECT, HP_E_PROC_WRITE,
 *         HP_E_LIVE_TIMEOUT.
 */
hp_status hp_shimc_inject(void *process, uint64_t *shim_base);

/**
 * Run one request (its verb, flags and arguments set by the caller; the header and the
 * requester's identity are set here) and read its result back. res is set on every failure.
 * @return the shim's status, or HP_E_LIVE_SHIM, HP_E_PROC_ALLOC, HP_E_PROC_WRITE,
 *         HP_E_PROC_READ, HP_E_LIVE_INJECT, HP_E_LIVE_TIMEOUT, HP_E_LIVE_REQUEST.
 */
hp_status hp_shimc_request(void *process, hp_wire_request *req, hp_wire_result *res);

/** A copy of a target's registry, read whole under its seqlock (wire.h): the live patches and
 * their sites, strings terminated. */
typedef struct hp_shimc_reg {
    uint64_t shim_base;      /* 0: no shim loaded (nothing else is set) */
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
hp_status hp_shimc_registry(void *process, hp_shimc_reg *reg);
void hp_shimc_reg_free(hp_shimc_reg *reg);
/** Live patch i of a copy, as the engine sees a live patch. */
hp_patch_live hp_shimc_live(const hp_shimc_reg *reg, uint32_t i);

#endif /* _WIN32 */
#endif
