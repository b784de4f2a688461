/*
 * hotpe: SHA-256 through the platform's library (sha256.h): BCrypt on Windows, libcrypto
 * (EVP) natively. Nothing here implements the hash itself.
 */
#include "hotpe/engine/sha256.h"

#include <stdlib.h>

#ifdef _WIN32

#include <windows.h>
#include <bcrypt.h>

hp_status hp_sha256_begin(hp_sha256 *h)
{
    BCRYPT_HASH_HANDLE hh = NULL;
    h->impl = NULL;
    /* BCRYPT_SHA256_ALG_HANDLE needs Windows 10; the provider handle works everywhere */
    BCRYPT_ALG_HANDLE alg = NULL;
    if (BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, 0) != 0)
        return HP_E_UNSUPPORTED;
    if (BCryptCreateHash(alg, &hh, NULL, 0, NULL, 0, 0) != 0) {
        BCryptCloseAlgorithmProvider(alg, 0);
        return HP_E_UNSUPPORTED;
    }
    void **pair = malloc(2 * sizeof *pair);
    if (!pair) {
        BCryptDestroyHash(hh);
        BCryptCloseAlgorithmProvider(alg, 0);
        return HP_E_NOMEM;
    }
    pair[0] = alg;
    pair[1] = hh;
    h->impl = pair;
    return HP_OK;
}

hp_status hp_sha256_add(hp_sha256 *h, const void *data, size_t n)
{
    void **pair = h->impl;
    const uint8_t *p = data;
    while (n) { /* BCryptHashData takes a ULONG length */
        ULONG chunk = n > 0x40000000u ? 0x40000000u : (ULONG)n;
        if (BCryptHashData(pair[1], (PUCHAR)p, chunk, 0) != 0)
            return HP_E_UNSUPPORTED;
        p += chunk;
        n -= chunk;
    }
    return HP_OK;
}

void hp_sha256_abort(hp_sha256 *h)
{
    void **pair = h->impl;
    if (!pair)
        return;
    BCryptDestroyHash(pair[1]);
    BCryptCloseAlgorithmProvider(pair[0], 0);
    free(pair);
    h->impl = NULL;
}

hp_status hp_sha256_end(hp_sha256 *h, uint8_t out[HP_SHA256_LEN])
{
    void **pair = h->impl;
    NTSTATUS st = BCryptFinishHash(pair[1], out, HP_SHA256_LEN, 0);
    hp_sha256_abort(h);
    return st == 0 ? HP_OK : HP_E_UNSUPPORTED;
}

#else /* libcrypto */

#include <openssl/evp.h>

hp_status hp_sha256_begin(hp_sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    h->impl = ctx;
    if (!ctx)
        return HP_E_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        hp_sha256_abort(h);
        return HP_E_UNSUPPORTED;
    }
    return HP_OK;
}

hp_status hp_sha256_add(hp_sha256 *h, const void *data, size_t n)
{
    return EVP_DigestUpdate(h->impl, data, n) == 1 ? HP_OK : HP_E_UNSUPPORTED;
}

void hp_sha256_abort(hp_sha256 *h)
{
    EVP_MD_CTX_free(h->impl);
    h->impl = NULL;
}

hp_status hp_sha256_end(hp_sha256 *h, uint8_t out[HP_SHA256_LEN])
{
    unsigned len = 0;
    int ok = EVP_DigestFinal_ex(h->impl, out, &len);
    hp_sha256_abort(h);
    return ok == 1 && len == HP_SHA256_LEN ? HP_OK : HP_E_UNSUPPORTED;
}

#endif

hp_status hp_sha256_of(const void *data, size_t n, uint8_t out[HP_SHA256_LEN])
{
    hp_sha256 h;
    hp_status s = hp_sha256_begin(&h);
    if (s != HP_OK)
        return s;
    s = hp_sha256_add(&h, data, n);
    if (s != HP_OK) {
        hp_sha256_abort(&h);
        return s;
    }
    return hp_sha256_end(&h, out);
}
