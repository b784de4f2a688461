/*
 * hotpe: the raw Win32 helpers, in one place (Windows builds only). The process back-ends
 * (proc.h), the shim client of the command line and the loader shim all call these rather than
 * their own copies. A process is a HANDLE passed as void *, so that this header needs no
 * <windows.h>.
 *
 * cfg_flags: whether the system still accepts PAGE_TARGETS_* (Control Flow Guard); true at
 * first, cleared on the first refusal (older Windows, Wine accepts and ignores them).
 */
#ifndef HOTPE_ENGINE_WIN_H
#define HOTPE_ENGINE_WIN_H

#ifdef _WIN32

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/status.h"

/** Within this distance of a site, rel32 and disp32 reach a whole allocation (a bit under 2 GiB). */
#define HP_WIN_NEAR_RANGE 0x7FF00000ull

/** ReadProcessMemory of exactly n bytes. @return HP_OK, HP_E_PROC_READ. */
hp_status hp_win_read(void *process, uint64_t addr, void *buf, size_t n);
/** WriteProcessMemory of n bytes of data (writable memory: no protection change, no flush).
 * @return HP_OK, HP_E_PROC_WRITE. */
hp_status hp_win_write_data(void *process, uint64_t addr, const void *buf, size_t n);

/**
 * VirtualProtectEx that keeps the CFG bitmap as it is: an executable protection gets
 * PAGE_TARGETS_NO_UPDATE (without it, making a page executable marks every byte a valid call
 * target) while the system accepts it. @return false with GetLastError set.
 */
bool hp_win_protect(void *process, bool *cfg_flags, uint64_t addr, size_t n, uint32_t prot,
                    uint32_t *old);

/** One page-bounded piece of a write: len bytes of src go to at. */
typedef hp_status (*hp_win_piece_fn)(void *ctx, uint64_t at, const uint8_t *src, size_t len);

/**
 * Call fn for each page-bounded piece of [addr, addr + n), in order, stopping at the first
 * failure: VirtualProtect reports the old protection of a range's first page only, so code is
 * written page by page. @return HP_OK or fn's first failure.
 */
hp_status hp_win_by_page(uint64_t addr, const void *buf, size_t n, hp_win_piece_fn fn, void *ctx);

/**
 * Write code: page by page make writable, WriteProcessMemory, restore each page's protection
 * (hp_win_protect), then flush the instruction cache.
 * @return HP_OK, HP_E_PROC_PROTECT, HP_E_PROC_WRITE, HP_E_PROC_FLUSH.
 */
hp_status hp_win_write(void *process, bool *cfg_flags, uint64_t addr, const void *buf, size_t n);

/**
 * Execute-read memory, CFG-invalid (PAGE_TARGETS_INVALID), within HP_WIN_NEAR_RANGE of
 * near_addr when x64 (free regions below it first, then above, as MinHook's buffer.c); size is
 * rounded up to the allocation granularity. @return HP_OK, HP_E_PROC_ALLOC.
 */
hp_status hp_win_alloc_near(void *process, bool *cfg_flags, bool x64, uint64_t near_addr,
                            size_t size, uint64_t *out);

/** Release what hp_win_alloc_near returned. @return HP_OK, HP_E_PROC_FREE. */
hp_status hp_win_free(void *process, uint64_t addr);

/** FlushInstructionCache. @return HP_OK, HP_E_PROC_FLUSH. */
hp_status hp_win_flush(void *process, uint64_t addr, size_t n);

/** When the process started (GetProcessTimes, FILETIME); 0 when it cannot be told. With the pid
 * it names one process: a pid is reused, a start time with it is not. */
uint64_t hp_win_started(void *process);

/** The one monotonic clock of the Windows builds, in nanoseconds (QueryPerformanceCounter). */
uint64_t hp_win_clock_ns(void);

/** Whether a region with this MEMORY_BASIC_INFORMATION State and Protect can be read without a
 * fault: committed, readable, no guard page. */
bool hp_win_readable(uint32_t state, uint32_t protect);

/** Whether [addr, addr + n) of this process is readable right now (VirtualQuery, region by
 * region). */
bool hp_win_readable_range(uint64_t addr, size_t n);

/** An export of a loaded system DLL (GetModuleHandle + GetProcAddress), as a plain function
 * pointer to be cast to its type; NULL when the DLL is not loaded or lacks it. */
void (*hp_win_proc(const char *dll, const char *name))(void);

#endif /* _WIN32 */
#endif
