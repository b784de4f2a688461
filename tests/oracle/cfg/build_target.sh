# Sourced (after tests/lib/common.sh) by wine-tests/test_cfg_live.sh and
# tests/oracle/test_cfg_plan.sh: builds cfg_target.c and its patch.
#   hp_cfg_build ARCH DIR CFG [GCC_FLAGS...]
# ARCH x64|x86; CFG 1: clang-cl and lld-link with /guard:cf, 0: the plain twin (same source, a
# load config without CFG). Writes DIR/cfg_target.exe (+ .map), DIR/raw.dll (the GCC patch, extra
# GCC flags appended) and DIR/patch.dll (stamped by build/native/hotpe build). 0 on success.
hp_cfg_build() {
    local a=$1 d=$2 cfg=$3 target machine lcsrc def gcc seh=() guard=()
    shift 3
    local src="$HP_ROOT/tests/oracle/cfg"
    if [ "$a" = x64 ]; then
        target=x86_64-pc-windows-msvc machine=i386:x86-64 lcsrc=loadcfg64.S def=kernel32_64.def
        gcc=x86_64-w64-mingw32-gcc
    else
        target=i686-pc-windows-msvc machine=i386 lcsrc=loadcfg32.S def=kernel32_32.def
        gcc=i686-w64-mingw32-gcc seh=(/safeseh)
    fi
    [ "$cfg" = 1 ] && guard=(/guard:cf)
    mkdir -p "$d"
    # Inputs after "--": clang-cl would read an absolute path such as /work/... as /w.
    "$HP_LLVM/clang-cl" "--target=$target" /nologo /O2 /GS- /hotpatch /Gy "${guard[@]}" /c \
        "/Fo$d/cfg_target.obj" -- "$src/cfg_target.c" &&
        "$HP_LLVM/clang" "--target=$target" -c "$src/$lcsrc" -o "$d/loadcfg.obj" &&
        "$HP_LLVM/llvm-dlltool" -m "$machine" -k -d "$src/$def" -l "$d/kernel32.lib" &&
        "$HP_LLVM/lld-link" /nologo "${guard[@]}" "${seh[@]}" /entry:start /subsystem:console \
            /nodefaultlib "$d/cfg_target.obj" "$d/loadcfg.obj" "$d/kernel32.lib" \
            "/map:$d/cfg_target.map" "/out:$d/cfg_target.exe" &&
        $gcc -std=c11 -Wall -Wextra -Werror -O2 -I"$HP_ROOT/sdk/include" "$@" -shared \
            -o "$d/raw.dll" "$src/cfg_patch.c" &&
        "$HP_BUILD/native/hotpe" build --base "$d/cfg_target.exe" "$d/raw.dll" -o "$d/patch.dll"
}
