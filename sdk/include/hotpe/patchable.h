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
 * clang (14) ignores ms_hook_prologue for MinGW targets: HOTPE_PATCHABLE then places 8 NOP
 * bytes before the entry (patchable_function_entry(8, 8)) and the translation unit must be
 * compiled with -fms-hotpatch, which makes the first instruction at least 2 bytes long. Those
 * entries scan as `padded`, which can be patched too.
 *
 * MSVC: empty; build the base with /hotpatch and link with /FUNCTIONPADMIN.
 * See docs/sdk.md.
 */
#ifndef HOTPE_PATCHABLE_H
#define HOTPE_PATCHABLE_H

#if defined(__GNUC__) || defined(__clang__)
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
#  elif HOTPE__HAS_ATTR(patchable_function_entry)
     /* clang: compile with -fms-hotpatch (a first instruction of 2 bytes or more). */
#    define HOTPE_PATCHABLE __attribute__((patchable_function_entry(8, 8), HOTPE__NOIPA noinline))
#  else
#    error "hotpe/patchable.h: this compiler has neither ms_hook_prologue nor patchable_function_entry"
#  endif
#elif defined(_MSC_VER)
#  define HOTPE_PATCHABLE /* build with /hotpatch, link with /FUNCTIONPADMIN */
#else
#  define HOTPE_PATCHABLE
#endif

#endif
