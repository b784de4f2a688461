/*
 * hotpe: what several live verbs print the same way: the CFG lines of a patch's sites, a few
 * bytes in hex, a path's file name, and a registry path (UTF-16) in UTF-8.
 */
#ifndef HOTPE_PRINT_H
#define HOTPE_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outbuf.h"

/** The file name at the end of a Windows or POSIX path (after its last \\ or /). */
const char *hp_print_file_name(const char *path);

/** The n bytes at p in hex, "xx xx xx xx", the first 8 only and then " .." (out: cap bytes). */
void hp_print_hex(char *out, size_t cap, const uint8_t *p, uint32_t n);

/**
 * What was done for Control Flow Guard for a patch's replacement entries (docs/live.md): one
 * line per kind of outcome, each starting with prefix, for out through b (outbuf.h); none when
 * the module is not CFG-instrumented.
 * @param states       in: HP_WIRE_CFG_* of each of the n sites, stride bytes apart (1 for an
 *                     array of states, sizeof(hp_wire_site) for registry sites' cfg)
 * @param win32_error  in: GetLastError of a failed registration, or 0
 */
void hp_print_cfg(hp_outbuf *b, FILE *out, const char *prefix, const uint8_t *states,
                  size_t stride, uint32_t n, uint32_t win32_error);

#ifdef _WIN32
/** A NUL-terminated UTF-16 string in UTF-8 (empty when it does not convert or fit). */
void hp_print_utf8(const uint16_t *w, char *out, size_t cap);
#endif

#endif
