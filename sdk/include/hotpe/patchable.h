/*
 * hotpe SDK: mark the functions of a base program that a patch may replace later.
 *
 *   #include <hotpe/patchable.h>
 *   HOTPE_PATCHABLE int compute_price(const struct order *o) { ... }
 *
 * GCC (MinGW-w64, x86 and x64): ms_hook_prologue gives the Windows hotpatch prologue
 * (x86: 16 x CC + 8B FF 55 8B EC; x64: 32 x CC + 48 8D A4 24 00 00 00 00), noipa stops GCC
 * from proving the function pure and hoisting or folding calls past its entry, noinline keeps
 * every call going through the entry. `hotpe scan` classes these entries `prologue`.
 *
 * clang (14) ignores ms_hook_prologue for MinGW targets and has no noipa. HOTPE_PATCHABLE then
 * is patchable_function_entry(10, 8): 8 NOPs (90) before the entry and 2 bytes at it, which
 * clang emits as the one instruction 66 90 (xchg ax,ax), an explicit hotpatch marker, so the
 * entry scans as `prologue` whatever code follows (no -fms-hotpatch needed). In place of noipa:
 * optnone keeps the function out of attribute inference (else clang proves it readnone and
 * hoists or drops its calls) and used counts as a taken address, so a static function keeps
 * its signature and calling convention (no dead-argument removal, no fastcc). The price:
 * the body is compiled without optimisation. Not stopped: a body that returns a literal
 * constant (`return 7;`) still has that constant propagated into callers in the same
 * translation unit (LLVM IPSCCP tracks the returns of every non-weak definition; weak renames
 * the COFF symbol and cannot be static). Such functions: use GCC, or another source file.
 * To pick other attributes (e.g. the tests' padded sites), define HOTPE_PATCHABLE first.
 *
 * MSVC: empty; build the base with /hotpatch and link with /FUNCTIONPADMIN.
 * See docs/sdk.md.
 */
#ifndef HOTPE_PATCHABLE_H
#define HOTPE_PATCHABLE_H

#if defined(HOTPE_PATCHABLE)
   /* the build chose its own attributes */
#elif defined(__GNUC__) || defined(__clang__)
#  if defined(__has_attribute)
#    define HOTPE__HAS_ATTR(x) __has_attribute(x)
#  else
#    define HOTPE__HAS_ATTR(x) 0
#  endif
#  if HOTPE__HAS_ATTR(noipa)
#    define HOTPE__NOIPA noipa,
#  else
#    define HOTPE__NOIPA
#  endif
#  if HOTPE__HAS_ATTR(ms_hook_prologue) && !defined(__clang__)
#    define HOTPE_PATCHABLE __attribute__((ms_hook_prologue, HOTPE__NOIPA noinline))
#  elif defined(__clang__) && HOTPE__HAS_ATTR(patchable_function_entry)
#    define HOTPE_PATCHABLE \
         __attribute__((patchable_function_entry(10, 8), optnone, noinline, used))
#  else
#    error "hotpe/patchable.h: needs GCC with ms_hook_prologue or clang with patchable_function_entry"
#  endif
#elif defined(_MSC_VER)
#  define HOTPE_PATCHABLE /* build with /hotpatch, link with /FUNCTIONPADMIN */
#else
#  define HOTPE_PATCHABLE
#endif

#endif
