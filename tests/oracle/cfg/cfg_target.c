/*
 * A CFG-instrumented target (wine-tests/test_cfg_live.sh, tests/oracle/test_cfg_plan.sh), built
 * by build_target.sh with clang-cl /guard:cf /hotpatch /Gy and lld-link /guard:cf (and once
 * without /guard:cf: the plain twin). No CRT and no Windows SDK: the few kernel32 functions are
 * declared here, and loadcfg{64,32}.S supply the load config and the CFG runtime symbols.
 * Commands on stdin, one reply line each:
 *   q   "q compute=C label=L" (C = compute(5), L = label(5), called through pointers: indirect
 *       calls the /guard:cf code checks against the function table)
 *   x   exit (also on end of input); a watchdog exits after 150 s
 * It first prints "pid N" with its Windows pid.
 */
typedef void *HANDLE;
typedef unsigned long DWORD;
typedef DWORD(__stdcall *thread_fn)(void *);

__declspec(dllimport) HANDLE __stdcall GetStdHandle(DWORD);
__declspec(dllimport) int __stdcall ReadFile(HANDLE, void *, DWORD, DWORD *, void *);
__declspec(dllimport) int __stdcall WriteFile(HANDLE, const void *, DWORD, DWORD *, void *);
__declspec(dllimport) DWORD __stdcall GetCurrentProcessId(void);
__declspec(dllimport) void __stdcall Sleep(DWORD);
__declspec(dllimport) void __stdcall ExitProcess(unsigned);
__declspec(dllimport) HANDLE __stdcall CreateThread(void *, __SIZE_TYPE__, thread_fn, void *, DWORD,
                                                    DWORD *);

static DWORD __stdcall watchdog(void *arg)
{
    (void)arg;
    Sleep(150 * 1000);
    ExitProcess(3);
    return 0;
}

/* First in .text, before the patchable functions: /Gy puts each function in its own section,
 * and lld-link fills the gaps between them with CC, the padding the sites need. */
__declspec(dllexport) __declspec(noinline) int first_in_text(void)
{
    return 7;
}

__declspec(dllexport) __declspec(noinline) int compute(int x)
{
    return x * 2;
}

__declspec(dllexport) __declspec(noinline) int label(int x)
{
    return x + 1000;
}

int (*volatile compute_ptr)(int) = compute;
int (*volatile label_ptr)(int) = label;

static HANDLE out;

static void put(const char *s)
{
    DWORD n = 0, len = 0;
    while (s[len])
        len++;
    WriteFile(out, s, len, &n, 0);
}

static char *fmt_int(char *p, int v)
{
    char tmp[12];
    int n = 0;
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
    if (v < 0)
        *p++ = '-';
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static void put_kv(const char *head, const char *k1, int v1, const char *k2, int v2)
{
    char line[96], *p = line;
    for (const char *s = head; *s; s++)
        *p++ = *s;
    for (const char *s = k1; *s; s++)
        *p++ = *s;
    p = fmt_int(p, v1);
    for (const char *s = k2; *s; s++)
        *p++ = *s;
    p = fmt_int(p, v2);
    *p++ = '\n';
    *p = 0;
    put(line);
}

void start(void)
{
    HANDLE in = GetStdHandle((DWORD)-10);
    out = GetStdHandle((DWORD)-11);
    CreateThread(0, 0, watchdog, 0, 0, 0);
    char line[8];
    char pid[32] = "pid ", *p = fmt_int(pid + 4, (int)GetCurrentProcessId());
    *p++ = '\n';
    *p = 0;
    put(pid);
    for (;;) {
        unsigned n = 0;
        char c;
        DWORD got = 0;
        while (ReadFile(in, &c, 1, &got, 0) && got == 1 && c != '\n')
            if (c != '\r' && n + 1 < sizeof line)
                line[n++] = c;
        line[n] = 0;
        if (got != 1 && n == 0)
            break;
        if (line[0] == 'q' && !line[1])
            put_kv("q ", "compute=", compute_ptr(5), " label=", label_ptr(5));
        else if (line[0] == 'x' && !line[1])
            break;
    }
    ExitProcess(0);
}
