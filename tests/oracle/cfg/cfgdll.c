/*
 * The CFG test DLL (tests/oracle/test_cfg.sh), built with clang-cl /guard:cf and lld-link.
 * No CRT: loadcfg64.S / loadcfg32.S supply the load config and the few runtime symbols.
 *
 * What each function is for, i.e. what the CFG tables must hold:
 *   cfg_exported, cfg_call, cfg_get_ext, cfg_setjmp   exported: in the function table
 *   cfg_taken, cfg_static_taken                        address taken: in the function table
 *   cfg_direct_only                                    only called directly: not in it
 *   ext_func (imported)                                address taken: its IAT slot in the
 *                                                      address-taken IAT table
 *   the return from _setjmp in cfg_setjmp              the longjmp target table
 *   (cfgeh.cpp: the continuation after its catch)      the EH continuation table
 */
typedef int (*cfg_fn)(int);

__declspec(dllimport) int ext_func(int);
int _setjmp(void *buf); /* no CRT headers: clang knows it as the MSVC setjmp builtin */

__declspec(dllexport) int cfg_exported(int x)
{
    return x + 1;
}

int cfg_taken(int x)
{
    return x * 2;
}

static int cfg_static_taken(int x)
{
    return x - 3;
}

static __declspec(noinline) int cfg_direct_only(int x)
{
    return (x ^ 0x55) * 7;
}

cfg_fn cfg_table[] = { cfg_exported, cfg_taken, cfg_static_taken };

__declspec(dllexport) int cfg_call(unsigned i, int x)
{
    return cfg_table[i % 3](x) + cfg_direct_only(x);
}

__declspec(dllexport) cfg_fn cfg_get_ext(void)
{
    return ext_func;
}

static long long cfg_jmp_buf[32];

__declspec(dllexport) int cfg_setjmp(int x)
{
    if (_setjmp(cfg_jmp_buf))
        return -1;
    return cfg_direct_only(x);
}
