/* tests/oracle/test_scan_objects.sh: the program (a DLL) that links the library
 * (libmylib.a: lib_core.o, lib_extra.o, lib_spare.o). */
int lib_checksum(const unsigned char *p, int n);
int lib_scale(int x, int k);
void lib_reset(void);
int lib_mix(int a, int b);
int __attribute__((stdcall)) lib_std(int a, int b);

__declspec(dllexport) int app_run(const unsigned char *p, int n)
{
    lib_reset();
    return lib_checksum(p, n) + lib_scale(n, 3) + lib_mix(n, 7) + lib_std(n, 2);
}
