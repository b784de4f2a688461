/*
 * An x64 target for wine-tests/test_live_padded.sh with hand-made sites no compiler flag
 * gives: five() has exactly 5 bytes of CC padding (the x64 `E9 rel32` to a near stub form), and
 * ripf() starts with a RIP-relative load behind 8 NOPs (its HOTPE_ORIGINAL stub must relocate
 * it). Commands on stdin: "q" prints "q five=F rip=R" (F = five(5), R = ripf(5)); "x" exits.
 * It first prints "pid N threads 1".
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int g_base = 100;
int five(int x); /* x * 3 */
int ripf(int x); /* g_base + x */

/* The C3 before each padding ends the count: five has 5 padding bytes, ripf 8. */
__asm__(".text\n"
        ".p2align 4\n"
        ".byte 0xC3, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC\n"
        ".globl five\n"
        ".def five; .scl 2; .type 32; .endef\n"
        "five:\n"
        "    leal (%rcx,%rcx,2), %eax\n"
        "    ret\n"
        ".p2align 4\n"
        ".byte 0xC3, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90\n"
        ".globl ripf\n"
        ".def ripf; .scl 2; .type 32; .endef\n"
        "ripf:\n"
        "    movl g_base(%rip), %eax\n"
        "    addl %ecx, %eax\n"
        "    ret\n");

static DWORD WINAPI watchdog(void *arg)
{
    Sleep((DWORD)(uintptr_t)arg * 1000);
    ExitProcess(3);
}

int main(void)
{
    const char *env = getenv("HOTPE_TARGET_SECONDS");
    uintptr_t secs = env ? (uintptr_t)atoi(env) : 120;
    CreateThread(NULL, 0, watchdog, (void *)(secs ? secs : 120), 0, NULL);
    int (*volatile f5)(int) = five, (*volatile fr)(int) = ripf;
    printf("pid %lu threads 1\n", (unsigned long)GetCurrentProcessId()); /* the test reads field 2 */
    fflush(stdout);
    char line[300];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "q") == 0)
            printf("q five=%d rip=%d\n", f5(5), fr(5));
        else if (strcmp(line, "x") == 0)
            break;
        fflush(stdout);
    }
    return 0;
}
