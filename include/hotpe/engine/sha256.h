/*
 * hotpe: SHA-256, from the platform's own library: BCrypt on Windows (hotpe.exe, the shim),
 * OpenSSL's libcrypto natively. Used for the bytes hotpe checked of a patch file (the shim
 * hashes the file it loads and compares) and for the base functions a patch replaces.
 */
#ifndef HOTPE_ENGINE_SHA256_H
#define HOTPE_ENGINE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "hotpe/status.h"

#define HP_SHA256_LEN 32u

/** An incremental hash; the platform's state behind an opaque pointer. */
typedef struct hp_sha256 {
    void *impl;
} hp_sha256;

/** Start a hash. @return HP_OK, HP_E_NOMEM, HP_E_UNSUPPORTED (no SHA-256 provider). */
hp_status hp_sha256_begin(hp_sha256 *h);
/** Add n bytes. @return HP_OK, HP_E_UNSUPPORTED. */
hp_status hp_sha256_add(hp_sha256 *h, const void *data, size_t n);
/** Finish into out and free the state (also on failure). @return HP_OK, HP_E_UNSUPPORTED. */
hp_status hp_sha256_end(hp_sha256 *h, uint8_t out[HP_SHA256_LEN]);
/** Free a hash that will not be finished. */
void hp_sha256_abort(hp_sha256 *h);

/** The hash of n bytes at data in one call. */
hp_status hp_sha256_of(const void *data, size_t n, uint8_t out[HP_SHA256_LEN]);

#endif
