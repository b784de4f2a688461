/*
 * hotpe-shim.dll: the machine's installed patches (`hotpe install`, docs/install.md). An image
 * `hotpe install` gave hotpe's import brings this DLL in before the image's own code runs; at
 * DLL_PROCESS_ATTACH at process start the shim applies the installed patches of the modules
 * loaded so far, and it asks the loader (LdrRegisterDllNotification) to tell it of every module loaded later,
 * whose installed patch it applies before the module's code runs and before LoadLibrary
 * returns. A shim hotpe injected does the latter: a process hotpe serves runs what is
 * installed in every module it loads from then on.
 *
 * Each apply is an ordinary request, served here on the loading thread by shim_serve: the same
 * admission, checks, transaction and registry as a request from hotpe. Nothing is printed; a
 * patch that does not apply leaves the module as it was, and `hotpe status` says why.
 */
#include <windows.h>
#include <string.h>

#include "hotpe/engine/installed.h"
#include "hotpe/engine/win.h"
#include "shim.h"

/* ntdll's loader notification (not in the SDK headers): what a LOADED notification carries. */
typedef struct ldr_loaded {
    ULONG flags;
    const void *full_name;   /* UNICODE_STRING * */
    const struct {
        USHORT length, maximum;
        const wchar_t *buffer;
    } *base_name;
    void *base;
    ULONG size;
} ldr_loaded;
typedef void(CALLBACK *ldr_notify_fn)(ULONG reason, const ldr_loaded *data, void *ctx);
typedef LONG(NTAPI *ldr_register_fn)(ULONG flags, ldr_notify_fn fn, void *ctx, void **cookie);
#define LDR_REASON_LOADED 1

#ifdef _WIN64
#define OWN_MACHINE IMAGE_FILE_MACHINE_AMD64
#else
#define OWN_MACHINE IMAGE_FILE_MACHINE_I386
#endif

/* Whether a patch with these file bytes is live here (read under the registry's seqlock: the
 * worker may be changing it). */
static bool live_already(const hp_wire_registry *r, const uint8_t sha[HP_SHA256_LEN])
{
    for (;;) {
        uint32_t seq = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
        bool found = false;
        if (!(seq & 1))
            for (uint32_t i = 0; i < r->count && !found; i++)
                found = memcmp(shim_reg_patch((hp_wire_registry *)r, i)->file_sha256, sha,
                               HP_SHA256_LEN) == 0;
        if (!(seq & 1) && __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE) == seq)
            return found;
        Sleep(0);
    }
}

/* One installed patch, as a request served on this thread. */
static hp_status serve_installed(hp_wire_registry *r, const hp_inst *e)
{
    hp_wire_request *req = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *req);
    if (!req)
        return HP_E_NOMEM;
    req->magic = HP_WIRE_REQUEST_MAGIC;
    req->version = HP_WIRE_VERSION;
    req->size = sizeof *req;
    req->verb = HP_WIRE_VERB_APPLY;
    req->nonce = hp_win_clock_ns();
    memcpy(req->path, e->file, sizeof req->path);
    memcpy(req->file_sha256, e->sha256, sizeof req->file_sha256);
    hp_status s = shim_serve(r, req, NULL);
    HeapFree(GetProcessHeap(), 0, req);
    return s;
}

/* Apply the installed patches of module (a file name; NULL: of every loaded module): for each
 * target, the newest installed patch that applies. */
static void apply_installed(hp_wire_registry *r, const char *module)
{
    hp_inst *list;
    uint32_t n;
    if (hp_inst_read(&list, &n) != HP_OK)
        return;
    const char *settled = NULL; /* the target whose patch is live (list: newest first) */
    for (uint32_t i = 0; i < n; i++) {
        const hp_inst *e = &list[i];
        if (e->machine != OWN_MACHINE || (settled && _stricmp(settled, e->target) == 0))
            continue;
        if (module ? !hp_inst_for(e, module) : !GetModuleHandleA(e->target))
            continue;
        hp_status s = live_already(r, e->sha256) ? HP_E_LIVE_ALREADY : serve_installed(r, e);
        /* applied, live, or a newer patch live: this target is settled */
        if (s == HP_OK || s == HP_E_LIVE_ALREADY || s == HP_E_LIVE_SEQUENCE)
            settled = e->target;
    }
    free(list);
}

static void CALLBACK on_load(ULONG reason, const ldr_loaded *data, void *ctx)
{
    char name[HP_WIRE_NAME_MAX];
    if (reason != LDR_REASON_LOADED || !data || !data->base_name || !data->base_name->buffer)
        return;
    int len = WideCharToMultiByte(CP_UTF8, 0, data->base_name->buffer,
                                  data->base_name->length / sizeof(wchar_t), name,
                                  sizeof name - 1, NULL, NULL);
    if (len <= 0)
        return;
    name[len] = 0;
    apply_installed(ctx, name);
}

void shim_installed_attach(hp_wire_registry *r, bool at_start)
{
    ldr_register_fn reg = (ldr_register_fn)(uintptr_t)GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "LdrRegisterDllNotification");
    void *cookie; /* never unregistered: the shim is never unloaded */
    if (reg)
        reg(0, on_load, r, &cookie);
    /* at process start the image that imports the shim (a program's own .exe among them)
     * gets no load notification of its own: apply now. Loaded later (LoadLibrary, or hotpe
     * injecting it), the image that brought it in is reported next, and hotpe applies what it
     * came to apply itself. */
    if (at_start)
        apply_installed(r, NULL);
}
