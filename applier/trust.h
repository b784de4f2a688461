/*
 * hotpe: which patches may run. A patch image carries an Authenticode signature; Windows
 * (WinVerifyTrust) says whether it is intact and valid, and its signer is looked up in the
 * machine's trusted signers (HKLM\Software\hotpe\TrustedSigners, kept by `hotpe trust`). The
 * policy, written once here (docs/trust.md):
 *   - a signature that is present is always checked: a broken, expired or revoked one refuses;
 *   - with one trusted signer or more, a patch must be signed by one of them;
 *   - with none, an unsigned patch is accepted with a one-line warning.
 * Windows builds only.
 */
#ifndef HOTPE_TRUST_H
#define HOTPE_TRUST_H

#ifdef _WIN32

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#include "hotpe/status.h"

/** A SHA-1 thumbprint as text: 40 lowercase hex digits. */
#define HP_TRUST_THUMB_LEN 40

/** What the check found about one patch file. */
typedef struct hp_trust_verdict {
    bool is_signed;
    bool warn_unsigned;     /* accepted unsigned: no trusted signer configured */
    bool unchecked;         /* no WinVerifyTrust on this system: nothing could be checked */
    unsigned signers;       /* trusted signers configured */
    long wvt;               /* WinVerifyTrust's answer (an HRESULT), 0 when not signed */
    char thumbprint[HP_TRUST_THUMB_LEN + 1];
    char subject[128];      /* the signer's display name */
    char detail[256];       /* for a refusal's line */
} hp_trust_verdict;

/**
 * Judge the patch at path by the policy above.
 * @return HP_OK (v->warn_unsigned: print the warning), or the refusal: HP_E_TRUST_UNSIGNED,
 *         HP_E_TRUST_SIGNER, HP_E_TRUST_TAMPERED, HP_E_TRUST_EXPIRED, HP_E_TRUST_REVOKED,
 *         HP_E_TRUST_INVALID, HP_E_TRUST_UNAVAILABLE, HP_E_TRUST_STORE (v->detail says more).
 */
hp_status hp_trust_check(const wchar_t *path, hp_trust_verdict *v);

#endif /* _WIN32 */

/* The verb: hotpe trust add|remove|list. */
int hp_verb_trust(int argc, char **argv);
extern const char hp_verb_trust_help[];

#endif
