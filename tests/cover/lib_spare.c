/* tests/oracle/test_scan_objects.sh: the library's third object, which the program never
 * calls: the linker takes nothing from it out of the archive. */
int lib_spare_one(int x)
{
    return x * 11;
}

int lib_spare_two(int x)
{
    return x / 3 + 1;
}
