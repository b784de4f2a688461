// A separate unit, so the compiler cannot see that cfg_catch's try never throws.
void cfg_may_throw(int x)
{
    (void)x;
}
