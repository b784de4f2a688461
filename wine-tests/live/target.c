/*
 * A multi-threaded target for wine-tests/test_live.sh: HOTPE_PATCHABLE functions called in
 * tight loops by worker threads while the main thread answers commands on stdin:
 *   q        print "q compute=C label=L" (C = compute(5), L = label(5)) from a direct call
 *   w        print "w compute=C label=L" as last seen by the worker threads (the loops)
 *   m NAME   print "m NAME loaded|absent": whether module NAME is in this process
 *   x [N]    exit with status N (0; also on end of input); a watchdog exits with 3 after
 *            HOTPE_TARGET_SECONDS (120)
 *   a        print "a argc=N last=ARG": its command line as the C runtime split it
 *   c N      start a thread that calls compute(N) once; print "c started tid T"
 *   r        set g_release (a patch's compute may wait for it), wait for the c thread, print
 *            "r compute=C" (what its call returned)
 *   v ADDR   print "v ADDR committed|reserved|free": the state of the page at hex ADDR
 *   l NAME   LoadLibraryA(NAME); print "l NAME loaded|failed"
 *   e        print "e events=N": g_events, which the patch's callbacks write (HOTPE_BASE_DATA)
 *   d        give this process an empty, protected DACL (no other process may open it); print
 *            "d denied E" with SetSecurityInfo's error (0: done)
 *   s SHIM PATCH  built with HOTPE_SHIM_SELF (and -Iinclude) only: load SHIM (hotpe-shim.dll)
 *            and hand it a request to apply PATCH (Windows paths) on this thread, as hotpe's
 *            remote thread does, but with no check from outside before it (wine-tests/
 *            test_funchash.sh); print "s status=0xS rva=0xR" (the result's status and
 *            failing_rva)
 * It first prints "pid N threads T" with its Windows pid.
 * OTHER_BUILD gives a different build of the same program (another SizeOfImage), for the
 * test's "patch made for another build" case.
 */
#include <windows.h>
#include <aclapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hotpe/patchable.h>
#ifdef HOTPE_SHIM_SELF
#include <bcrypt.h>

#include "hotpe/engine/wire.h"
#endif

#define THREADS 4

long g_calls;
volatile long g_release;
volatile long g_events; /* written by wine-tests/live/patch.c's HOTPE_ON_APPLY / ON_REVERT */

#ifdef OTHER_BUILD
char g_other_build[256 * 1024] = { 1 };
#endif

HOTPE_PATCHABLE int compute(int x)
{
    return x * 2;
}

HOTPE_PATCHABLE int label(int x)
{
    return x + 1000;
}

static volatile LONG seen_compute, seen_label, stop;

static DWORD WINAPI worker(void *arg)
{
    (void)arg;
    while (!stop) {
        for (int i = 0; i < 1000; i++) {
            InterlockedIncrement(&g_calls);
            seen_compute = compute(5);
            seen_label = label(5);
        }
        Sleep(0);
    }
    return 0;
}

static volatile LONG one_result;

static DWORD WINAPI call_once(void *arg)
{
    one_result = compute((int)(intptr_t)arg);
    return 0;
}

/* In a thread of its own, whose stack goes away: the address asked about is left on no live
 * stack (test_unload.sh checks that a patch's stub page is freed). */
static const char *volatile page_state_seen;

static DWORD WINAPI page_state(void *arg)
{
    MEMORY_BASIC_INFORMATION mbi;
    void *at = (void *)(uintptr_t)strtoull(arg, NULL, 16);
    page_state_seen = !VirtualQuery(at, &mbi, sizeof mbi) ? "free"
                      : mbi.State == MEM_COMMIT           ? "committed"
                      : mbi.State == MEM_RESERVE          ? "reserved"
                                                          : "free";
    return 0;
}

#ifdef HOTPE_SHIM_SELF
/* The SHA-256 of the file at path, as hotpe puts it in an apply request. */
static BOOL file_sha256(const wchar_t *path, uint8_t out[32])
{
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    BCRYPT_ALG_HANDLE alg = NULL;
    BCRYPT_HASH_HANDLE h = NULL;
    BOOL ok = f != INVALID_HANDLE_VALUE &&
              BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, 0) == 0 &&
              BCryptCreateHash(alg, &h, NULL, 0, NULL, 0, 0) == 0;
    static uint8_t buf[65536];
    DWORD got;
    while (ok && ReadFile(f, buf, sizeof buf, &got, NULL) && got)
        ok = BCryptHashData(h, buf, got, 0) == 0;
    ok = ok && BCryptFinishHash(h, out, 32, 0) == 0;
    if (h)
        BCryptDestroyHash(h);
    if (alg)
        BCryptCloseAlgorithmProvider(alg, 0);
    if (f != INVALID_HANDLE_VALUE)
        CloseHandle(f);
    return ok;
}

/* "s SHIM PATCH": the shim's own checks alone decide. */
static void shim_self(char *args)
{
    typedef DWORD(WINAPI * run_fn)(void *);
    char *patch = strchr(args, ' ');
    if (patch)
        *patch++ = 0;
    HMODULE shim = patch ? LoadLibraryA(args) : NULL;
    run_fn run = shim ? (run_fn)(uintptr_t)GetProcAddress(shim, "hotpe_shim_run") : NULL;
    hp_wire_request *req = VirtualAlloc(NULL, sizeof *req, MEM_COMMIT | MEM_RESERVE,
                                        PAGE_READWRITE);
    if (!run || !req ||
        !MultiByteToWideChar(CP_ACP, 0, patch, -1, (wchar_t *)req->path, HP_WIRE_PATH_MAX) ||
        !file_sha256((const wchar_t *)req->path, req->file_sha256)) {
        printf("s failed to set up (error %lu)\n", (unsigned long)GetLastError());
        return;
    }
    req->magic = HP_WIRE_REQUEST_MAGIC; /* owner_pid 0: the shim never frees the block */
    req->version = HP_WIRE_VERSION;
    req->size = sizeof *req;
    req->verb = HP_WIRE_VERB_APPLY;
    DWORD status = run(req);
    printf("s status=0x%04lx rva=0x%x\n", (unsigned long)status, req->result.failing_rva);
}
#endif

static DWORD WINAPI watchdog(void *arg)
{
    Sleep((DWORD)(uintptr_t)arg * 1000);
    ExitProcess(3);
}

int main(int argc, char **argv)
{
    int status = 0;
    const char *env = getenv("HOTPE_TARGET_SECONDS");
    uintptr_t secs = env ? (uintptr_t)atoi(env) : 120;
    CreateThread(NULL, 0, watchdog, (void *)(secs ? secs : 120), 0, NULL);
    HANDLE th[THREADS];
    for (int i = 0; i < THREADS; i++)
        th[i] = CreateThread(NULL, 0, worker, NULL, 0, NULL);
    printf("pid %lu threads %d\n", (unsigned long)GetCurrentProcessId(), THREADS);
    fflush(stdout);
    char line[300];
    HANDLE once = NULL;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "q") == 0) {
            printf("q compute=%d label=%d\n", compute(5), label(5));
        } else if (strcmp(line, "w") == 0) {
            LONG c0 = seen_compute;
            Sleep(50); /* a fresh value from the loops */
            printf("w compute=%ld label=%ld\n", (long)seen_compute, (long)seen_label);
            (void)c0;
        } else if (strncmp(line, "m ", 2) == 0) {
            printf("m %s %s\n", line + 2, GetModuleHandleA(line + 2) ? "loaded" : "absent");
        } else if (strcmp(line, "x") == 0 || strncmp(line, "x ", 2) == 0) {
            status = atoi(line + 1);
            break;
        } else if (strcmp(line, "a") == 0) {
            printf("a argc=%d last=%s\n", argc, argv[argc - 1]);
        } else if (strncmp(line, "c ", 2) == 0) {
            DWORD tid = 0;
            once = CreateThread(NULL, 0, call_once, (void *)(intptr_t)atoi(line + 2), 0, &tid);
            printf("c started tid %lu\n", (unsigned long)tid);
        } else if (strcmp(line, "r") == 0) {
            g_release = 1;
            if (once)
                WaitForSingleObject(once, 10000);
            printf("r compute=%ld\n", (long)one_result);
        } else if (strncmp(line, "v ", 2) == 0) {
            HANDLE q = CreateThread(NULL, 0, page_state, line + 2, 0, NULL);
            if (q)
                WaitForSingleObject(q, 10000);
            printf("v %s %s\n", line + 2, q ? page_state_seen : "?");
            if (q)
                CloseHandle(q);
        } else if (strncmp(line, "l ", 2) == 0) {
            printf("l %s %s\n", line + 2, LoadLibraryA(line + 2) ? "loaded" : "failed");
        } else if (strcmp(line, "e") == 0) {
            printf("e events=%ld\n", (long)g_events);
        } else if (strcmp(line, "d") == 0) {
            /* an empty, protected DACL: no other process may open this one (test_trust.sh) */
            ACL acl;
            InitializeAcl(&acl, sizeof acl, ACL_REVISION);
            DWORD e = SetSecurityInfo(GetCurrentProcess(), SE_KERNEL_OBJECT,
                                      DACL_SECURITY_INFORMATION |
                                          PROTECTED_DACL_SECURITY_INFORMATION,
                                      NULL, NULL, &acl, NULL);
            printf("d denied %lu\n", (unsigned long)e);
#ifdef HOTPE_SHIM_SELF
        } else if (strncmp(line, "s ", 2) == 0) {
            shim_self(line + 2);
#endif
        }
        fflush(stdout);
    }
    stop = 1;
    WaitForMultipleObjects(THREADS, th, TRUE, 5000);
    return status;
}
