/* Site sample: -fpatchable-function-entry=7,5 puts 5 NOPs (90) before the entry and 2 after
 * it: the entry is two 1-byte NOPs, class nop-pair; =10,8 the same with 8 before; =6,5 one
 * NOP at the entry, not a pair. */
#define EXPORT __declspec(dllexport)

EXPORT __attribute__((noipa)) int pfe_add(int a, int b) { return a + b; }
EXPORT __attribute__((noipa)) int pfe_sub(int a, int b) { return a - b; }
