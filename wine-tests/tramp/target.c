/*
 * The target of wine-tests/test_tramp.sh: code never built for hotpatching. Built with plain
 * `-O2` (no hotpatch padding, no marker), so its functions and msvcrt's can be patched only in
 * the entry form (a 5-byte jump over the first instructions, which move to a trampoline).
 *
 * Protocol (one reply line per command, starting with the command's letter; "pid N" first):
 *   p TEXT   "p <parse_port(TEXT)>"
 *   a TEXT   "a <atoi(TEXT)>" (msvcrt.dll's atoi, through the import table)
 *   h N      start N threads calling parse_port and atoi in loops: "h N"
 *   s        "s calls <C> bad <B> old <O> new <N>": the hammer's counts so far; bad: results
 *            that are neither the original nor the fixed one
 *   b        "b <the first 8 bytes of parse_port> | <of msvcrt!atoi>" in hex
 *   x        stop the hammer, exit 0
 * The refuse_* functions are written in assembly to be exactly the shapes hotpe must refuse.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAIN __attribute__((noinline, noipa))

/* The bug: no range check; the fix (fix.c) answers -1 above 65535. */
PLAIN int parse_port(const char *s)
{
    int v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return v;
}

/* Shapes the entry form cannot take, each right after a ret (no padding). */
#if defined(_WIN64)
#define SYM(n) #n
#else
#define SYM(n) "_" #n
#endif
#define ASM_FN(name, body)                                                                   \
    __asm__(".text\n.p2align 4\n.byte 0xC3\n.globl " SYM(name) "\n.def " SYM(name)         \
            "; .scl 2; .type 32; .endef\n" SYM(name) ":\n" body "\n.p2align 4, 0\n")
ASM_FN(refuse_short, ".byte 0x31, 0xC0, 0xC3");                  /* xor eax,eax; ret */
ASM_FN(refuse_loop, ".byte 0x53, 0xFF, 0xC9, 0x75, 0xFC, 0x5B, 0xC3"); /* push; 1: dec ecx; jnz 1 */
ASM_FN(refuse_loopinsn, ".byte 0x85, 0xC9, 0xE2, 0xFE, 0xC3");    /* test ecx,ecx; loop $ */
ASM_FN(refuse_undecodable, ".byte 0xB8, 1, 0, 0, 0, 0xC3, 0x0F, 0x04"); /* mov eax,1; ret; ?? */
int refuse_short(void);
int refuse_loop(void);
int refuse_loopinsn(void);
int refuse_undecodable(void);

typedef int (*parse_fn)(const char *);

static volatile LONG g_stop;
static volatile LONG64 g_calls, g_bad, g_old, g_new;

/* Every call goes through the entries (volatile pointers): each result is the original's or
 * the fix's, whichever is live, never anything else. */
static DWORD WINAPI hammer(void *arg)
{
    (void)arg;
    parse_fn volatile port = parse_port, ai = atoi;
    while (!g_stop) {
        int p = port("99999"), q = port("8080"), a = ai("5000000"), b = ai("42");
        LONG64 old = (p == 99999) + (a == 5000000), fixed = (p == -1) + (a == 1000000);
        if (q != 8080 || b != 42 || old + fixed != 2)
            InterlockedIncrement64(&g_bad);
        InterlockedAdd64(&g_old, old);
        InterlockedAdd64(&g_new, fixed);
        InterlockedIncrement64(&g_calls);
    }
    return 0;
}

static void hex8(const void *p, char *out)
{
    const unsigned char *b = p;
    for (int i = 0; i < 8; i++)
        sprintf(out + 3 * i, "%02x ", b[i]);
    out[23] = 0;
}

int main(void)
{
    char line[256];
    HANDLE th[16];
    int nth = 0;
    _setmode(_fileno(stdout), _O_BINARY); /* "\n" lines, as the test reads them */
    printf("pid %lu\n", (unsigned long)GetCurrentProcessId());
    fflush(stdout);
    DWORD limit = GetTickCount() + 1000u * (getenv("HOTPE_TARGET_SECONDS")
                                                ? (DWORD)atoi(getenv("HOTPE_TARGET_SECONDS"))
                                                : 300u);
    while (fgets(line, sizeof line, stdin) && GetTickCount() < limit) {
        line[strcspn(line, "\r\n")] = 0;
        const char *arg = line[1] ? line + 2 : "";
        switch (line[0]) {
        case 'p': printf("p %d\n", parse_port(arg)); break;
        case 'a': printf("a %d\n", atoi(arg)); break;
        case 'h':
            for (int n = atoi(arg); n > 0 && nth < 16; n--)
                th[nth++] = CreateThread(NULL, 0, hammer, NULL, 0, NULL);
            printf("h %d\n", nth);
            break;
        case 's':
            printf("s calls %lld bad %lld old %lld new %lld\n", (long long)g_calls,
                   (long long)g_bad, (long long)g_old, (long long)g_new);
            break;
        case 'b': {
            char a[32], b[32];
            hex8((const void *)parse_port, a);
            hex8((const void *)GetProcAddress(GetModuleHandleA("msvcrt.dll"), "atoi"), b);
            printf("b %s | %s\n", a, b);
            break;
        }
        case 'x':
            g_stop = 1;
            WaitForMultipleObjects((DWORD)nth, th, TRUE, 5000);
            printf("x bye\n");
            fflush(stdout);
            return 0;
        default: printf("? %s\n", line); break;
        }
        fflush(stdout);
    }
    g_stop = 1;
    return 0;
}
