/* Site sample: clang -fms-hotpatch. x86 puts 66 90 (or 8B FF) before a 1-byte first
 * instruction; x64 re-encodes it (push rsi as FF F6) or keeps a first instruction of 2 bytes
 * or more. Built for the MinGW targets with -fno-omit-frame-pointer, so that functions start
 * with push ebp / push rbp. */
#define EXPORT __declspec(dllexport)

extern int sink(int);

/* Starts with a push: clang must make the first instruction >= 2 bytes. */
EXPORT __attribute__((noinline)) int hp_pushes(int a, int b, int c)
{
    int r = sink(a) + sink(b);
    return r + sink(c) + sink(r);
}

/* A leaf that starts with a >= 2-byte instruction anyway. */
EXPORT __attribute__((noinline)) int hp_leaf(int a, int b) { return a * 3 + b; }

int sink(int x)
{
    static volatile int v;
    v += x;
    return v;
}
