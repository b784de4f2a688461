/* Site sample: -fpatchable-function-entry=7,5 puts 5 NOPs (90) before the entry and 2 after
 * it: the first instruction is a 1-byte nop. */
#define EXPORT __declspec(dllexport)

EXPORT __attribute__((noipa)) int pfe_add(int a, int b) { return a + b; }
EXPORT __attribute__((noipa)) int pfe_sub(int a, int b) { return a - b; }
