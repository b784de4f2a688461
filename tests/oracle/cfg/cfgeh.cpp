// The CFG test DLL's C++ part: the code after a catch is an EH continuation target.
void cfg_may_throw(int x);

extern "C" __declspec(dllexport) int cfg_catch(int x)
{
    try {
        cfg_may_throw(x);
    } catch (int e) {
        return e;
    }
    return 0;
}
