/* Site sample: GCC's ms_hook_prologue (x86: 16 x CC + 8B FF 55 8B EC; x64: 32 x CC + the
 * 8-byte lea rsp,[rsp+0]) next to plain functions, built as a MinGW DLL for both arches. */
#define HOOK __attribute__((ms_hook_prologue, noipa))
#define EXPORT __declspec(dllexport)

EXPORT HOOK int hook_add(int a, int b) { return a + b; }
EXPORT HOOK int hook_mul(int a, int b) { return a * b + 1; }

/* Plain: a 1-byte push first (short-first). */
EXPORT __attribute__((noipa)) int plain_sum(const int *v, int n)
{
    volatile int acc = 0;
    for (int i = 0; i < n; i++)
        acc += v[i] * hook_add(i, n);
    return acc;
}
