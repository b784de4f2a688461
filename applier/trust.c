/*
 * hotpe trust add|remove|list, and the check every patch file passes before hotpe uses it
 * (trust.h has the policy; docs/trust.md tells users).
 *
 * Windows judges the signature: WinVerifyTrust (wintrust.dll, looked up at run time so that a
 * system without it is reported, not assumed) checks that the Authenticode signature is there,
 * that the file's bytes still match it and that the certificate is valid for signing now.
 * hotpe then decides who: the signer's certificate (CryptQueryObject, crypt32) must be in the
 * trusted signers, by SHA-1 thumbprint as Windows' certificate tools show it. A trusted
 * signer is pinned: its certificate is trusted even when Windows does not know its root
 * (CERT_E_UNTRUSTEDROOT, CERT_E_CHAINING), as a test or in-house signing certificate is.
 * Revocation is checked from what Windows has cached (no network fetch during an apply); when
 * it cannot be checked (CERT_E_REVOCATION_FAILURE) the signature stands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "trust.h"

const char hp_verb_trust_help[] =
    "usage: hotpe trust add (CERT | SIGNED.dll | THUMBPRINT)\n"
    "       hotpe trust remove (CERT | SIGNED.dll | THUMBPRINT)\n"
    "       hotpe trust unsigned (warn | allow)\n"
    "       hotpe trust list [--json]\n"
    "\n"
    "The trusted signers of this machine, for every hotpe on it (32- and 64-bit): certificate\n"
    "SHA-1 thumbprints under HKLM\\Software\\hotpe\\TrustedSigners. A certificate is given as a\n"
    "file (DER or PEM), as a file signed with it (its signer), or as its thumbprint (40 hex\n"
    "digits, as certutil and the certificate dialogs show it).\n"
    "\n"
    "With one trusted signer or more, check, apply and run accept only patches signed by one\n"
    "of them, intact and valid for signing; with none, an unsigned patch is accepted with a\n"
    "warning. A signature that is present is always checked: a patch changed after signing,\n"
    "or signed with an expired or revoked certificate, is refused either way (docs/trust.md).\n"
    "`trust unsigned allow` is an administrator's decision to accept unsigned patches without\n"
    "the warning while no signer is trusted (a test machine); `warn` is the default.\n"
    "\n"
    "  --json   list: one JSON document {\"schema\", \"unsigned\", \"signers\":\n"
    "           [{\"thumbprint\", \"subject\"}]}\n"
    "\n"
    "Needs the Windows build (the native build prints one line saying so and exits 1).\n"
    "Exit codes: 0 done, 1 refused (one line says why), 2 bad usage.\n";

#ifndef _WIN32

int hp_verb_trust(int argc, char **argv)
{
    (void)argc;
    return hp_cli_fail(argv[0], HP_E_LIVE_NEEDS_WINDOWS, NULL);
}

#else /* _WIN32 */

#include <windows.h>
#include <wincrypt.h>
#include <softpub.h>
#include <wintrust.h>

#include "json.h"

#define TRUST_KEY L"Software\\hotpe\\TrustedSigners"
#define STORE_NAME "HKLM\\Software\\hotpe\\TrustedSigners" /* in messages */
#define POLICY_KEY L"Software\\hotpe"
#define POLICY_VALUE L"UnsignedPolicy" /* "allow", or absent / "warn" */
/* both builds see one key: the 64-bit registry view, also from a 32-bit hotpe */
#define TRUST_VIEW KEY_WOW64_64KEY

/* ------------------------------------------------------------------------------------------ */
/* The trusted signers                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* The key; *k NULL (and HP_OK) when reading and it does not exist yet. */
static hp_status store_open(bool write, HKEY *k)
{
    LSTATUS e;
    *k = NULL;
    if (write)
        e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, TRUST_KEY, 0, NULL, 0,
                            KEY_READ | KEY_SET_VALUE | TRUST_VIEW, NULL, k, NULL);
    else
        e = RegOpenKeyExW(HKEY_LOCAL_MACHINE, TRUST_KEY, 0, KEY_READ | TRUST_VIEW, k);
    if (e == ERROR_FILE_NOT_FOUND && !write)
        return HP_OK;
    return e == ERROR_SUCCESS ? HP_OK : HP_E_TRUST_STORE;
}

/* Whether an administrator chose to accept unsigned patches without the warning. */
static bool unsigned_allowed(void)
{
    HKEY k;
    wchar_t v[16] = L"";
    DWORD n = sizeof v - sizeof *v, type = 0;
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, KEY_QUERY_VALUE | TRUST_VIEW, &k) !=
        ERROR_SUCCESS)
        return false;
    LSTATUS e = RegQueryValueExW(k, POLICY_VALUE, NULL, &type, (BYTE *)v, &n);
    RegCloseKey(k);
    return e == ERROR_SUCCESS && type == REG_SZ && wcscmp(v, L"allow") == 0;
}

static bool is_thumbprint(const char *s)
{
    size_t n = strlen(s);
    if (n != HP_TRUST_THUMB_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    return true;
}

/* How many signers are trusted, and (thumb not NULL) whether thumb is one of them. */
static hp_status store_lookup(const char *thumb, unsigned *count, bool *found)
{
    HKEY k;
    *count = 0;
    if (found)
        *found = false;
    HP_CHECK(store_open(false, &k));
    if (!k)
        return HP_OK;
    DWORD n = 0;
    hp_status s = HP_OK;
    if (RegQueryInfoKeyW(k, NULL, NULL, NULL, NULL, NULL, NULL, &n, NULL, NULL, NULL, NULL) !=
        ERROR_SUCCESS)
        s = HP_E_TRUST_STORE;
    *count = n;
    if (s == HP_OK && thumb && found)
        *found = RegQueryValueExA(k, thumb, NULL, NULL, NULL, NULL) == ERROR_SUCCESS;
    RegCloseKey(k);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Certificates                                                                               */
/* ------------------------------------------------------------------------------------------ */

static void cert_names(PCCERT_CONTEXT cert, char thumb[HP_TRUST_THUMB_LEN + 1], char *subject,
                       size_t cap)
{
    BYTE h[20];
    DWORD n = sizeof h;
    thumb[0] = 0;
    if (CertGetCertificateContextProperty(cert, CERT_SHA1_HASH_PROP_ID, h, &n) && n == 20)
        for (unsigned i = 0; i < 20; i++)
            snprintf(thumb + 2 * i, 3, "%02x", h[i]);
    if (!CertGetNameStringA(cert, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, subject, (DWORD)cap))
        snprintf(subject, cap, "?");
}

/* Whether the signer info carries a timestamp (an Authenticode counter-signature or an
 * RFC 3161 one): then the certificate's validity is judged at signing time, not now. */
static bool timestamped(HCRYPTMSG msg)
{
    DWORD n = 0;
    CRYPT_ATTRIBUTES *attrs = NULL;
    bool found = false;
    if (CryptMsgGetParam(msg, CMSG_SIGNER_UNAUTH_ATTR_PARAM, 0, NULL, &n) && (attrs = malloc(n)) &&
        CryptMsgGetParam(msg, CMSG_SIGNER_UNAUTH_ATTR_PARAM, 0, attrs, &n))
        for (DWORD i = 0; i < attrs->cAttr; i++)
            found |= strcmp(attrs->rgAttr[i].pszObjId, szOID_RSA_counterSign) == 0 ||
                     strcmp(attrs->rgAttr[i].pszObjId, "1.3.6.1.4.1.311.3.3.1") == 0;
    free(attrs);
    return found;
}

/* The certificate in a file: a certificate (DER or PEM), or the signer of a signed PE (and
 * whether its signature is timestamped). NULL when it is neither; the caller frees it. */
static PCCERT_CONTEXT cert_of_file(const wchar_t *path, bool cert_too, bool *stamped)
{
    DWORD type = 0;
    HCERTSTORE store = NULL;
    HCRYPTMSG msg = NULL;
    const void *ctx = NULL;
    DWORD want = CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED_EMBED |
                 (cert_too ? CERT_QUERY_CONTENT_FLAG_CERT : 0);
    if (!CryptQueryObject(CERT_QUERY_OBJECT_FILE, path, want,
                          cert_too ? CERT_QUERY_FORMAT_FLAG_ALL : CERT_QUERY_FORMAT_FLAG_BINARY, 0,
                          NULL, &type, NULL, &store, &msg, &ctx))
        return NULL;
    PCCERT_CONTEXT cert = NULL;
    if (type == CERT_QUERY_CONTENT_CERT) {
        cert = ctx;
    } else if (msg) {
        DWORD n = 0;
        CERT_INFO *info = NULL;
        if (CryptMsgGetParam(msg, CMSG_SIGNER_CERT_INFO_PARAM, 0, NULL, &n) &&
            (info = malloc(n)) && CryptMsgGetParam(msg, CMSG_SIGNER_CERT_INFO_PARAM, 0, info, &n))
            cert = CertFindCertificateInStore(store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0,
                                              CERT_FIND_SUBJECT_CERT, info, NULL);
        free(info);
        if (stamped)
            *stamped = timestamped(msg);
    }
    if (msg)
        CryptMsgClose(msg);
    if (store)
        CertCloseStore(store, 0);
    return cert;
}

/* ------------------------------------------------------------------------------------------ */
/* The check                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef LONG(WINAPI *wvt_fn)(HWND, GUID *, LPVOID);

/* WinVerifyTrust's answer for the file, or HP_E_TRUST_UNAVAILABLE. Revocation: from the cache
 * only (an apply never waits on the network). */
static hp_status verify(const wchar_t *path, long *answer)
{
    HMODULE m = LoadLibraryW(L"wintrust.dll");
    wvt_fn wvt = m ? (wvt_fn)(void (*)(void))GetProcAddress(m, "WinVerifyTrust") : NULL;
    if (!wvt)
        return HP_E_TRUST_UNAVAILABLE;
    WINTRUST_FILE_INFO fi = { .cbStruct = sizeof fi, .pcwszFilePath = path };
    WINTRUST_DATA wd = { .cbStruct = sizeof wd };
    wd.dwUIChoice = WTD_UI_NONE;
    wd.fdwRevocationChecks = WTD_REVOKE_WHOLECHAIN;
    wd.dwProvFlags = WTD_CACHE_ONLY_URL_RETRIEVAL | WTD_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT;
    wd.dwUnionChoice = WTD_CHOICE_FILE;
    wd.pFile = &fi;
    wd.dwStateAction = WTD_STATEACTION_IGNORE;
    GUID action = WINTRUST_ACTION_GENERIC_VERIFY_V2;
    *answer = wvt((HWND)INVALID_HANDLE_VALUE, &action, &wd);
    return HP_OK;
}

/* WinVerifyTrust's HRESULTs by meaning (winerror.h). */
static hp_status judge(long hr, bool *is_signed)
{
    *is_signed = true;
    switch ((unsigned long)hr) {
    case 0:
    case (unsigned long)CERT_E_UNTRUSTEDROOT: /* pinned by thumbprint: see the top */
    case (unsigned long)CERT_E_CHAINING:
    case (unsigned long)CERT_E_UNTRUSTEDTESTROOT:
    case (unsigned long)CERT_E_REVOCATION_FAILURE: /* not checkable now: the signature stands */
        return HP_OK;
    case (unsigned long)TRUST_E_NOSIGNATURE:
    case (unsigned long)TRUST_E_SUBJECT_FORM_UNKNOWN:
        *is_signed = false;
        return HP_OK;
    case (unsigned long)TRUST_E_BAD_DIGEST:
    case (unsigned long)CRYPT_E_HASH_VALUE:
        return HP_E_TRUST_TAMPERED;
    case (unsigned long)CERT_E_EXPIRED:
    case (unsigned long)TRUST_E_TIME_STAMP:
        return HP_E_TRUST_EXPIRED;
    case (unsigned long)CERT_E_REVOKED:
    case (unsigned long)CRYPT_E_REVOKED:
        return HP_E_TRUST_REVOKED;
    default:
        return HP_E_TRUST_INVALID;
    }
}

hp_status hp_trust_check(const wchar_t *path, hp_trust_verdict *v)
{
    memset(v, 0, sizeof *v);
    bool verified = verify(path, &v->wvt) == HP_OK;
    hp_status judged = verified ? judge(v->wvt, &v->is_signed) : HP_E_TRUST_UNAVAILABLE;
    bool stamped = false;
    PCCERT_CONTEXT cert = verified && v->is_signed ? cert_of_file(path, false, &stamped) : NULL;
    if (cert)
        cert_names(cert, v->thumbprint, v->subject, sizeof v->subject);
    /* not every WinVerifyTrust checks the time (Wine 8 does not): an untimestamped signature
     * needs its certificate valid now */
    LONG when = judged == HP_OK && cert && !stamped ? CertVerifyTimeValidity(NULL, cert->pCertInfo)
                                                    : 0;
    /* the trusted signers, read once: how many, and whether this signer is one */
    bool found = false;
    hp_status s = store_lookup(v->thumbprint[0] ? v->thumbprint : NULL, &v->signers, &found);
    if (s != HP_OK) {
        snprintf(v->detail, sizeof v->detail, STORE_NAME);
    } else if (!verified) {
        /* nothing can be checked: refuse when signatures are required, else say so */
        v->warn_unsigned = v->unchecked = true;
        s = v->signers ? judged : HP_OK;
    } else if (when) {
        SYSTEMTIME t;
        FILETIME ft = when > 0 ? cert->pCertInfo->NotAfter : cert->pCertInfo->NotBefore;
        FileTimeToSystemTime(&ft, &t);
        snprintf(v->detail, sizeof v->detail, "signer %s, not valid %s %04u-%02u-%02u, and the "
                 "signature has no timestamp", v->subject, when > 0 ? "after" : "before",
                 t.wYear, t.wMonth, t.wDay);
        s = HP_E_TRUST_EXPIRED;
    } else if (judged != HP_OK || (v->is_signed && !v->thumbprint[0])) {
        /* refused by Windows; or accepted, but its signer cannot be read */
        snprintf(v->detail, sizeof v->detail, "WinVerifyTrust 0x%08lx%s%s",
                 (unsigned long)v->wvt, v->subject[0] ? ", signer " : "", v->subject);
        s = judged != HP_OK ? judged : HP_E_TRUST_INVALID;
    } else if (!v->is_signed) {
        v->warn_unsigned = v->signers == 0 && !unsigned_allowed();
        s = v->signers ? HP_E_TRUST_UNSIGNED : HP_OK;
    } else if (v->signers && !found) {
        snprintf(v->detail, sizeof v->detail, "signer %s, thumbprint %s", v->subject,
                 v->thumbprint);
        s = HP_E_TRUST_SIGNER;
    }
    if (cert)
        CertFreeCertificateContext(cert);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* The verb                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* The thumbprint (and a name) meant by a trust argument: a thumbprint, or a file. */
static hp_status thumbprint_of(const char *arg, char thumb[HP_TRUST_THUMB_LEN + 1],
                               char *subject, size_t cap)
{
    if (is_thumbprint(arg)) {
        for (unsigned i = 0; i <= HP_TRUST_THUMB_LEN; i++)
            thumb[i] = (char)(arg[i] >= 'A' && arg[i] <= 'F' ? arg[i] - 'A' + 'a' : arg[i]);
        snprintf(subject, cap, "(given by thumbprint)");
        return HP_OK;
    }
    wchar_t w[MAX_PATH];
    if (!MultiByteToWideChar(CP_ACP, 0, arg, -1, w, MAX_PATH))
        return HP_E_TRUST_CERT;
    if (GetFileAttributesW(w) == INVALID_FILE_ATTRIBUTES)
        return HP_E_IO;
    PCCERT_CONTEXT cert = cert_of_file(w, true, NULL);
    if (!cert)
        return HP_E_TRUST_CERT;
    cert_names(cert, thumb, subject, cap);
    CertFreeCertificateContext(cert);
    return thumb[0] ? HP_OK : HP_E_TRUST_CERT;
}

/* trust add / trust remove: the signer arg means, in or out of the list. */
static int trust_change(bool add, const char *arg)
{
    char thumb[HP_TRUST_THUMB_LEN + 1], subject[128];
    hp_status s = thumbprint_of(arg, thumb, subject, sizeof subject);
    if (s != HP_OK)
        return hp_cli_fail(arg, s, s == HP_E_IO ? "no such file" : NULL);
    HKEY k = NULL;
    LSTATUS e = ERROR_FILE_NOT_FOUND;
    if (!add) /* nothing to remove from a key that does not exist: do not create it */
        s = store_open(false, &k);
    if (s == HP_OK && (add || k)) {
        if (k)
            RegCloseKey(k);
        if ((s = store_open(true, &k)) == HP_OK) {
            e = add ? RegSetValueExA(k, thumb, 0, REG_SZ, (const BYTE *)subject,
                                     (DWORD)strlen(subject) + 1)
                    : RegDeleteValueA(k, thumb);
            RegCloseKey(k);
        }
    }
    if (s != HP_OK || (e != ERROR_SUCCESS && e != ERROR_FILE_NOT_FOUND) ||
        (add && e != ERROR_SUCCESS))
        return hp_cli_fail(STORE_NAME, HP_E_TRUST_STORE, NULL);
    if (e == ERROR_FILE_NOT_FOUND)
        return hp_cli_fail(thumb, HP_E_TRUST_NOT_LISTED, NULL);
    if (add)
        printf("trusted signer %s  %s\n", thumb, subject);
    else
        printf("removed signer %s\n", thumb);
    return HP_EXIT_OK;
}

static int trust_unsigned(const char *how)
{
    if (strcmp(how, "warn") != 0 && strcmp(how, "allow") != 0)
        return hp_cli_usage("trust", "unsigned takes warn or allow");
    HKEY k;
    LSTATUS e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, NULL, 0,
                                KEY_SET_VALUE | TRUST_VIEW, NULL, &k, NULL);
    if (e == ERROR_SUCCESS) {
        wchar_t v[8];
        MultiByteToWideChar(CP_ACP, 0, how, -1, v, 8);
        e = RegSetValueExW(k, POLICY_VALUE, 0, REG_SZ, (const BYTE *)v,
                           (DWORD)((wcslen(v) + 1) * sizeof *v));
        RegCloseKey(k);
    }
    if (e != ERROR_SUCCESS)
        return hp_cli_fail("HKLM\\Software\\hotpe", HP_E_TRUST_STORE, NULL);
    printf("unsigned patches, while no signer is trusted: %s\n",
           how[0] == 'a' ? "accepted without a warning" : "accepted with a warning");
    return HP_EXIT_OK;
}

static int trust_list(bool json)
{
    HKEY k;
    if (store_open(false, &k) != HP_OK)
        return hp_cli_fail(STORE_NAME, HP_E_TRUST_STORE, NULL);
    hp_json j;
    bool quiet = unsigned_allowed();
    if (json) {
        hp_json_doc_begin(&j, stdout);
        hp_json_key(&j, "unsigned");
        hp_json_str(&j, quiet ? "allow" : "warn");
        hp_json_key(&j, "signers");
        hp_json_array_begin(&j);
    }
    unsigned n = 0;
    for (DWORD i = 0; k; i++) {
        char name[64], data[256];
        DWORD nlen = sizeof name, dlen = sizeof data - 1, type;
        LSTATUS e = RegEnumValueA(k, i, name, &nlen, NULL, &type, (BYTE *)data, &dlen);
        if (e == ERROR_NO_MORE_ITEMS)
            break;
        if (e != ERROR_SUCCESS || !is_thumbprint(name))
            continue;
        data[type == REG_SZ ? dlen : 0] = 0;
        n++;
        if (json) {
            hp_json_object_begin(&j);
            hp_json_key(&j, "thumbprint");
            hp_json_str(&j, name);
            hp_json_key(&j, "subject");
            hp_json_str(&j, data);
            hp_json_object_end(&j);
        } else {
            printf("%s  %s\n", name, data);
        }
    }
    if (k)
        RegCloseKey(k);
    if (json) {
        hp_json_array_end(&j);
        hp_json_doc_end(&j);
    } else if (!n) {
        printf("no trusted signers: unsigned patches are accepted (%s)\n",
               quiet ? "without a warning: trust unsigned allow" : "with a warning");
    }
    return HP_EXIT_OK;
}

int hp_verb_trust(int argc, char **argv)
{
    static const hp_args_opt opts[] = { { "--json", false }, { NULL, false } };
    hp_args a;
    const char *v, *what = NULL, *arg = NULL;
    bool json = false;
    int k;
    hp_args_init(&a, argc, argv);
    while ((k = hp_args_next(&a, opts, &v)) != HP_ARGS_END) {
        if (k == HP_ARGS_BAD)
            return HP_EXIT_USAGE;
        if (k == 0)
            json = true;
        else if (k == HP_ARGS_OPERAND && !what)
            what = v;
        else if (k == HP_ARGS_OPERAND && !arg)
            arg = v;
        else if (k == HP_ARGS_OPERAND)
            return hp_cli_usage(a.verb, "too many arguments");
    }
    if (!what)
        return hp_cli_usage(a.verb, "add, remove, unsigned or list missing");
    if (strcmp(what, "list") == 0)
        return arg ? hp_cli_usage(a.verb, "list takes no argument") : trust_list(json);
    if (strcmp(what, "unsigned") == 0)
        return !arg ? hp_cli_usage(a.verb, "unsigned takes warn or allow") : trust_unsigned(arg);
    if (strcmp(what, "add") != 0 && strcmp(what, "remove") != 0)
        return hp_cli_usage(a.verb, "add, remove, unsigned or list expected");
    if (!arg)
        return hp_cli_usage(a.verb, "a certificate, a signed file or a thumbprint missing");
    if (json)
        return hp_cli_usage(a.verb, "--json is for list");
    return trust_change(what[0] == 'a', arg);
}

#endif /* _WIN32 */
