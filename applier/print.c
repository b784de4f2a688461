/*
 * hotpe: what several live verbs print the same way (print.h).
 */
#include <stdio.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/wire.h"
#include "print.h"

#ifdef _WIN32
#include <windows.h>
#endif

const char *hp_print_file_name(const char *path)
{
    const char *name = path;
    for (const char *c = path; *c; c++)
        if (*c == '\\' || *c == '/')
            name = c + 1;
    return name;
}

void hp_print_hex(char *out, size_t cap, const uint8_t *p, uint32_t n)
{
    size_t k = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < n && i < 8 && k + 4 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%02x", i ? " " : "", p[i]);
    if (n > 8 && k + 4 < cap)
        snprintf(out + k, cap - k, " ..");
}

void hp_print_cfg(hp_outbuf *b, FILE *out, const char *prefix, const uint8_t *states,
                  size_t stride, uint32_t n, uint32_t win32_error)
{
    uint32_t by[8] = { 0 };
    for (uint32_t k = 0; k < n; k++) {
        uint8_t st = states[(size_t)k * stride];
        by[st < 8 ? st : 0]++;
    }
    if (by[HP_WIRE_CFG_REGISTERED])
        hp_outbuf_printf(b, out, "%sCFG: %u replacement entr%s made valid call targets\n", prefix,
                         by[HP_WIRE_CFG_REGISTERED], by[HP_WIRE_CFG_REGISTERED] == 1 ? "y" : "ies");
    if (by[HP_WIRE_CFG_NO_API])
        hp_outbuf_printf(b, out, "%sCFG: the module is CFG-instrumented, but this system lacks "
                         "SetProcessValidCallTargets: %u replacement entr%s not registered\n",
                         prefix, by[HP_WIRE_CFG_NO_API], by[HP_WIRE_CFG_NO_API] == 1 ? "y" : "ies");
    if (by[HP_WIRE_CFG_NOT_ENFORCED])
        hp_outbuf_printf(b, out, "%sCFG: the module is CFG-instrumented, but the process runs "
                         "without CFG: nothing to register\n", prefix);
    if (by[HP_WIRE_CFG_FAILED]) {
        hp_outbuf_printf(b, out, "%sCFG: making %u replacement entr%s valid call targets failed",
                         prefix, by[HP_WIRE_CFG_FAILED], by[HP_WIRE_CFG_FAILED] == 1 ? "y" : "ies");
        if (win32_error)
            hp_outbuf_printf(b, out, " (error %u)", win32_error);
        hp_outbuf_putc(b, out, '\n');
    }
    if (by[HP_WIRE_CFG_UNALIGNED])
        hp_outbuf_printf(b, out, "%sCFG: %u replacement entr%s not 16-byte aligned: not "
                         "registered\n", prefix, by[HP_WIRE_CFG_UNALIGNED],
                         by[HP_WIRE_CFG_UNALIGNED] == 1 ? "y is" : "ies are");
}

#ifdef _WIN32
void hp_print_utf8(const uint16_t *w, char *out, size_t cap)
{
    if (!WideCharToMultiByte(CP_UTF8, 0, (const wchar_t *)w, -1, out, (int)cap, NULL, NULL))
        out[0] = 0;
}
#endif
