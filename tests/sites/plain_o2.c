/* Site sample: plain -O2 code, no hotpatch support at all. */
#define EXPORT __declspec(dllexport)

EXPORT __attribute__((noipa)) int plain_add(int a, int b) { return a + b; }

/* Calls out, so it saves registers first: a 1-byte push on both arches. */
EXPORT __attribute__((noipa)) int plain_calls(int a, int b, int c)
{
    int r = plain_add(a, b);
    r = plain_add(r, c) * plain_add(c, a);
    return plain_add(r, b) + a;
}
