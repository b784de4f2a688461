/*
 * A patch for a system DLL: Wine's kernelbase.dll, whose GetLocalTime is DECLSPEC_HOTPATCH.
 * The replacement calls the original (HOTPE_ORIGINAL: entry + the 8-byte `lea rsp,[rsp+0]` on
 * x64, + `mov edi,edi` on x86) and moves the result one hour ahead, the kind of fix a
 * daylight-saving rule change needs. Every caller in the patched process sees it, samples/clock
 * included.
 *
 *   x86_64-w64-mingw32-gcc -O2 -Isdk/include -shared -o clock-fix.dll clock-fix.c
 *   hotpe build --base .../x86_64-windows/kernelbase.dll clock-fix.dll -o clock-fix-kernelbase.dll
 *
 * The stamped patch matches one kernelbase.dll build (TimeDateStamp, SizeOfImage, CheckSum):
 * the one installed with Wine, which the Wine prefix's system32 (x64) and syswow64 (x86)
 * copies are byte for byte.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <hotpe/patch.h>

HOTPE_PATCH("kernelbase.dll", 1, "GetLocalTime: one hour ahead (daylight-saving rule change)");

/* WINAPI in the return type: on x86 GetLocalTime is __stdcall, and so must the slot be. */
HOTPE_ORIGINAL(void WINAPI, GetLocalTime, (SYSTEMTIME *));
_Static_assert(__builtin_types_compatible_p(__typeof__(HOTPE_ORIGINAL_FN(GetLocalTime)), __typeof__(&GetLocalTime)),
               "the original's type is GetLocalTime's, calling convention included");

void WINAPI GetLocalTime_plus_hour(SYSTEMTIME *st);
_Static_assert(__builtin_types_compatible_p(__typeof__(&GetLocalTime_plus_hour), __typeof__(&GetLocalTime)),
               "the replacement's type is GetLocalTime's");
void WINAPI GetLocalTime_plus_hour(SYSTEMTIME *st)
{
    SYSTEMTIME now;
    FILETIME ft;
    ULARGE_INTEGER t;
    HOTPE_ORIGINAL_FN(GetLocalTime)(&now);
    if (!SystemTimeToFileTime(&now, &ft)) {
        *st = now;
        return;
    }
    t.LowPart = ft.dwLowDateTime;
    t.HighPart = ft.dwHighDateTime;
    t.QuadPart += 3600ULL * 10000000ULL; /* 100 ns units */
    ft.dwLowDateTime = t.LowPart;
    ft.dwHighDateTime = t.HighPart;
    if (!FileTimeToSystemTime(&ft, st))
        *st = now;
}
HOTPE_REPLACE(GetLocalTime, GetLocalTime_plus_hour);
