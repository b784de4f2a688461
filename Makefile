# hotpe: the one entry point. See README.md.
#
#   make            libraries and tools: native (Linux), x64 and x86 (MinGW-w64)
#   make deps       install what the build and tests need (scripts/deps.sh)
#   make demo       a running server fixed live under Wine (scripts/demo.sh; ARCH=x86)
#   make test       everything below in order: all, unit, oracle, wine, fuzz-smoke
#   make unit       Check unit tests, natively and again under ASan+UBSan
#   make oracle     against independent readers (LIEF, llvm tools) and real programs
#   make wine       end-to-end under Wine (wine-tests/), x64 and x86
#   make fuzz-smoke 20 s of libFuzzer per parser; make fuzz: FUZZ_SECONDS (60) each
#   make bench      benchmarks, results in bench/results/
#   make install    hotpe, both Windows builds and the SDK headers under PREFIX (/usr/local);
#                   DESTDIR for staging; make uninstall removes them

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

B := build
WARN := -std=c11 -Wall -Wextra -Werror
OPT ?= -O2 -g
CPPFLAGS_COMMON := -Iinclude -Isdk/include
FUZZ_SECONDS ?= 60
LLVM_BIN := /usr/lib/llvm-14/bin

# The rooms (docs/architecture.md): pe/ the PE library, engine/ what the command line and the
# shim share, applier/ the command line, loader-shim/ the in-target program. Public headers of
# pe/ and engine/ are in include/hotpe/.
PE_SRC := $(wildcard pe/*.c)
PE_HDR := $(wildcard include/hotpe/*.h include/hotpe/*/*.h sdk/include/hotpe/*.h pe/*.h)
ENGINE_SRC := $(wildcard engine/*.c)
APPLIER_SRC := $(wildcard applier/*.c)

# ------------------------------------------------------------------------------------------
# Toolchains: native, asan (native with sanitizers), x64 and x86 (MinGW-w64)
# ------------------------------------------------------------------------------------------
CC_native := gcc
AR_native := ar
CFLAGS_native := $(WARN) $(OPT) -D_DEFAULT_SOURCE

CC_asan := gcc
AR_asan := ar
CFLAGS_asan := $(WARN) -O1 -g -D_DEFAULT_SOURCE -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer

CC_x64 := x86_64-w64-mingw32-gcc
AR_x64 := x86_64-w64-mingw32-ar
CFLAGS_x64 := $(WARN) $(OPT) -D__USE_MINGW_ANSI_STDIO=1

CC_x86 := i686-w64-mingw32-gcc
AR_x86 := i686-w64-mingw32-ar
CFLAGS_x86 := $(WARN) $(OPT) -D__USE_MINGW_ANSI_STDIO=1

# Site analysis (pe/site.c, pe/tramp.c) and the stub recipe (pe/insn_move.c) use Zydis: the system's for native builds, our MinGW build of
# Debian's source for Windows (headers from build/deps, see "Zydis for MinGW" below).
ZYDIS_LIBS_native := -lZydis -lZycore
ZYDIS_LIBS_asan := -lZydis -lZycore
ZYDIS_LIBS_x64 := $(B)/x64/libZydis.a
ZYDIS_LIBS_x86 := $(B)/x86/libZydis.a
# SHA-256 (engine/sha256.c) from the platform: libcrypto natively, BCrypt on Windows. Every
# link of libhotpe-engine.a adds these.
CRYPTO_LIBS_native := -lcrypto
CRYPTO_LIBS_asan := -lcrypto
CRYPTO_LIBS_x64 := -lbcrypt
CRYPTO_LIBS_x86 := -lbcrypt
# hotpe trust and the signature check (applier/trust.c): crypt32; wintrust is loaded at run time
ZYDIS_CPPFLAGS_MINGW = -I$(ZYDIS_SRC)/include -I$(ZYCORE_INC) -DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD

# objects of $(1) sources for arch $(2)
objs = $(patsubst %.c,$(B)/$(2)/obj/%.o,$(1))

define ARCH_RULES
$(B)/$(1)/obj/%.o: %.c $(PE_HDR)
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$(CPPFLAGS_COMMON) $$(CPPFLAGS_EXTRA) -MMD -MP -c $$< -o $$@

$(B)/$(1)/libhotpe-pe.a: $(call objs,$(PE_SRC),$(1))
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR_$(1)) rcs $$@ $$^

$(B)/$(1)/libhotpe-engine.a: $(call objs,$(ENGINE_SRC),$(1))
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR_$(1)) rcs $$@ $$^
endef
$(foreach a,native asan x64 x86,$(eval $(call ARCH_RULES,$(a))))
# every header an object includes (applier/*.h, tests' own headers) is a prerequisite too
-include $(shell find $(B)/native $(B)/asan $(B)/x64 $(B)/x86 -name '*.d' 2>/dev/null)

# ------------------------------------------------------------------------------------------
# Zydis for MinGW, built from Debian's source package (fetched by make deps)
# ------------------------------------------------------------------------------------------
ZYDIS_TARBALL := $(firstword $(wildcard $(B)/deps/zydis_*.orig.tar.gz))
ZYDIS_SRC := $(B)/deps/zydis-src
ZYCORE_INC := $(B)/deps/zycore-include

$(ZYDIS_SRC)/.stamp: $(ZYDIS_TARBALL)
	@test -n "$<" || { echo "Zydis source missing: run 'make deps'" >&2; exit 1; }
	rm -rf $(ZYDIS_SRC) $(ZYCORE_INC) && mkdir -p $(ZYDIS_SRC) $(ZYCORE_INC)
	tar xzf $< -C $(ZYDIS_SRC) --strip-components=1
	cp -r /usr/include/Zycore $(ZYCORE_INC)/
	touch $@

define ZYDIS_RULES
$(B)/$(1)/zydis/%.o: $(ZYDIS_SRC)/.stamp
	@mkdir -p $$(@D)
	$$(CC_$(1)) -O2 -DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD -I$(ZYDIS_SRC)/include \
	    -I$(ZYDIS_SRC)/src -I$(ZYCORE_INC) -c $(ZYDIS_SRC)/src/$$*.c -o $$@

$(B)/$(1)/libZydis.a: $(patsubst %,$(B)/$(1)/zydis/%.o,$(ZYDIS_UNITS))
	rm -f $$@ && $$(AR_$(1)) rcs $$@ $$^
endef
ZYDIS_UNITS := Decoder DecoderData Disassembler Encoder EncoderData Formatter FormatterATT \
               FormatterBase FormatterBuffer FormatterIntel MetaInfo Mnemonic Register Segment \
               SharedData String Utils Zydis
$(foreach a,x64 x86,$(eval $(call ZYDIS_RULES,$(a))))

# Only these sources include Zydis headers (site.h keeps its decoder opaque); their MinGW
# objects need the headers unpacked first. Nothing else sees Zydis' include flags.
ZYDIS_USERS := pe/site.c pe/insn_move.c pe/tramp.c
$(foreach a,x64 x86,$(call objs,$(ZYDIS_USERS),$(a))): CPPFLAGS_EXTRA += $(ZYDIS_CPPFLAGS_MINGW)
$(foreach a,x64 x86,$(call objs,$(ZYDIS_USERS),$(a))): $(ZYDIS_SRC)/.stamp

# ------------------------------------------------------------------------------------------
# Tools used by tests and benchmarks
# ------------------------------------------------------------------------------------------
TOOLS := $(patsubst tests/tools/%.c,%,$(wildcard tests/tools/*.c))

$(B)/native/%: $(B)/native/obj/tests/tools/%.o $(B)/native/libhotpe-pe.a
	$(CC_native) $(CFLAGS_native) $^ $(ZYDIS_LIBS_native) -o $@

# ------------------------------------------------------------------------------------------
# Unit tests (Check): tests/unit/test_*.c, each its own runner
# ------------------------------------------------------------------------------------------
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -pthread)
UNIT := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_HDR := $(wildcard tests/unit/*.h)

define UNIT_RULES
$(B)/$(1)/tests/%: $(B)/$(1)/obj/tests/unit/%.o $(B)/$(1)/libhotpe-engine.a $(B)/$(1)/libhotpe-pe.a
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$^ $(CHECK_LIBS) $$(ZYDIS_LIBS_$(1)) $$(CRYPTO_LIBS_$(1)) -o $$@
endef
$(foreach a,native asan,$(eval $(call UNIT_RULES,$(a))))
$(foreach a,native asan,$(call objs,$(wildcard tests/unit/*.c),$(a))): $(UNIT_HDR)

# ------------------------------------------------------------------------------------------
# Oracle programs (tests/oracle/*.c: native, linked with LIEF and Check), benchmark programs
# (bench/*.c), and small Windows programs the tests run under Wine (tests/win/*.c)
# ------------------------------------------------------------------------------------------
ORACLE := $(patsubst tests/oracle/%.c,$(B)/native/oracle/%,$(wildcard tests/oracle/*.c))
BENCH := $(patsubst bench/%.c,$(B)/native/bench/%,$(wildcard bench/*.c))
WINPROGS := $(foreach a,x64 x86,$(patsubst tests/win/%.c,$(B)/$(a)/tests/%.exe,$(wildcard tests/win/*.c)) $(B)/$(a)/hotpe-testhooks.exe)

# LIEF 0.9's C API is C++ inside: link with g++.
$(B)/native/oracle/%: $(B)/native/obj/tests/oracle/%.o $(B)/native/libhotpe-engine.a $(B)/native/libhotpe-pe.a
	@mkdir -p $(@D)
	g++ $^ -lLIEF $(CHECK_LIBS) $(ZYDIS_LIBS_native) $(CRYPTO_LIBS_native) -o $@

$(B)/native/bench/%: $(B)/native/obj/bench/%.o $(B)/native/libhotpe-pe.a
	@mkdir -p $(@D)
	$(CC_native) $(CFLAGS_native) $^ $(ZYDIS_LIBS_native) -o $@

define WIN_RULES
$(B)/$(1)/tests/%.exe: $(B)/$(1)/obj/tests/win/%.o $(B)/$(1)/libhotpe-engine.a $(B)/$(1)/libhotpe-pe.a $$(ZYDIS_LIBS_$(1))
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$^ -lpsapi $$(CRYPTO_LIBS_$(1)) -o $$@
endef
$(foreach a,x64 x86,$(eval $(call WIN_RULES,$(a))))

# MinHook v1.3.4, vendored unmodified in bench/third_party/minhook: the yardstick of
# tests/win/bench_freeze.exe (bench/bench_freeze.sh runs it x64; the x86 build links it too so
# that the same source builds), never linked into hotpe. Its sources get their own flags (not
# -Wextra -Werror clean: buffer.c has an unused parameter on x86); nothing else sees them.
MINHOOK_DIR := bench/third_party/minhook
MINHOOK_SRC := $(addprefix $(MINHOOK_DIR)/src/,buffer.c hook.c trampoline.c hde/hde32.c hde/hde64.c)
define MINHOOK_RULES
$(call objs,$(MINHOOK_SRC),$(1)): $(B)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC_$(1)) -std=gnu11 -w $(OPT) -MMD -MP -c $$< -o $$@
$(B)/$(1)/tests/bench_freeze.exe: $(call objs,$(MINHOOK_SRC),$(1))
$(B)/$(1)/obj/tests/win/bench_freeze.o: CPPFLAGS_EXTRA += -I$(MINHOOK_DIR)/include
endef
$(foreach a,x64 x86,$(eval $(call MINHOOK_RULES,$(a))))

# ------------------------------------------------------------------------------------------
# The hotpe command line (applier/*.c): build/native/hotpe, build/x64/hotpe.exe, build/x86/hotpe.exe
# ------------------------------------------------------------------------------------------
HOTPE_BINS := $(if $(APPLIER_SRC),$(B)/native/hotpe $(B)/x64/hotpe.exe $(B)/x86/hotpe.exe)
$(foreach a,native asan x64 x86,$(call objs,$(APPLIER_SRC),$(a))): $(wildcard applier/*.h)
# `hotpe --version` names the commit: version.h is rewritten only when it changes, so a commit
# rebuilds hotpe.c and nothing else.
$(B)/version.h: FORCE
	@mkdir -p $(B); v='#define HOTPE_COMMIT "'"$$(git describe --always --dirty 2>/dev/null || echo unknown)"'"'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" >$@
$(foreach a,native asan x64 x86,$(call objs,applier/hotpe.c,$(a))): $(B)/version.h
$(foreach a,native asan x64 x86,$(call objs,applier/hotpe.c,$(a))): CPPFLAGS_EXTRA += -I$(B)
FORCE:

$(B)/native/hotpe: $(call objs,$(APPLIER_SRC),native) $(B)/native/libhotpe-engine.a $(B)/native/libhotpe-pe.a
	$(CC_native) $(CFLAGS_native) $^ $(ZYDIS_LIBS_native) $(CRYPTO_LIBS_native) -o $@

define HOTPE_WIN_RULES
$(B)/$(1)/hotpe.exe: $(call objs,$(APPLIER_SRC),$(1)) $(B)/$(1)/libhotpe-engine.a $(B)/$(1)/libhotpe-pe.a $$(ZYDIS_LIBS_$(1))
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$^ $$(CRYPTO_LIBS_$(1)) -lcrypt32 -o $$@

# hotpe.exe with the test hooks (HP_TEST_HOOKS in applier/apply.c), beside the shim: for
# wine-tests/test_trust.sh only, never installed
$(B)/$(1)/obj/applier/apply-testhooks.o: applier/apply.c $(PE_HDR)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$(CPPFLAGS_COMMON) -DHP_TEST_HOOKS -MMD -MP -c $$< -o $$@
$(B)/$(1)/hotpe-testhooks.exe: $(call objs,$(filter-out applier/apply.c,$(APPLIER_SRC)),$(1)) $(B)/$(1)/obj/applier/apply-testhooks.o $(B)/$(1)/libhotpe-engine.a $(B)/$(1)/libhotpe-pe.a $$(ZYDIS_LIBS_$(1))
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$^ $$(CRYPTO_LIBS_$(1)) -lcrypt32 -o $$@
endef
$(foreach a,x64 x86,$(eval $(call HOTPE_WIN_RULES,$(a))))

# ------------------------------------------------------------------------------------------
# The loader shim (loader-shim/*.c, exports in hotpe-shim.def): build/x64/hotpe-shim.dll,
# build/x86/hotpe-shim.dll, linked with the engine and the PE library only: no instruction
# decoder (hotpe build records how each stub's instruction moves) and no debug sections (it is
# mapped into every patched process)
# ------------------------------------------------------------------------------------------
SHIM_SRC := $(wildcard loader-shim/*.c)
SHIM_DLLS := $(if $(SHIM_SRC),$(B)/x64/hotpe-shim.dll $(B)/x86/hotpe-shim.dll)
SHIM_LDFLAGS_x86 := -Wl,--enable-stdcall-fixup
$(foreach a,x64 x86,$(call objs,$(SHIM_SRC),$(a))): $(wildcard loader-shim/*.h)

define SHIM_RULES
$(B)/$(1)/hotpe-shim.dll: $(call objs,$(SHIM_SRC),$(1)) loader-shim/hotpe-shim.def $(B)/$(1)/libhotpe-engine.a $(B)/$(1)/libhotpe-pe.a
	$$(CC_$(1)) $$(CFLAGS_$(1)) -shared $$^ -lpsapi $$(CRYPTO_LIBS_$(1)) -Wl,--strip-debug $$(SHIM_LDFLAGS_$(1)) -o $$@
endef
$(foreach a,x64 x86,$(eval $(call SHIM_RULES,$(a))))
all: $(SHIM_DLLS)

# ------------------------------------------------------------------------------------------
# Samples (samples/README.md): quote-server.exe, quote-client.exe, the patch fix.dll and the
# stamped quote-server-fix.dll (hotpe build with the native hotpe), in build/x64 and build/x86
# ------------------------------------------------------------------------------------------
SAMPLES := $(foreach a,x64 x86,$(addprefix $(B)/$(a)/,quote-server.exe quote-client.exe fix.dll quote-server-fix.dll))
$(foreach a,x64 x86,$(call objs,$(wildcard samples/*/*.c),$(a))): CPPFLAGS_EXTRA += -Isdk/include

define SAMPLE_RULES
$(B)/$(1)/quote-server.exe: $(B)/$(1)/obj/samples/quote-server/quote-server.o
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$< -lws2_32 -o $$@
$(B)/$(1)/quote-client.exe: $(B)/$(1)/obj/samples/quote-client/quote-client.o
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$< -lws2_32 -o $$@
$(B)/$(1)/fix.dll: $(B)/$(1)/obj/samples/quote-server-fix/fix.o
	$$(CC_$(1)) $$(CFLAGS_$(1)) -shared $$< -o $$@
$(B)/$(1)/quote-server-fix.dll: $(B)/$(1)/fix.dll $(B)/$(1)/quote-server.exe $(B)/native/hotpe
	$(B)/native/hotpe build --base $(B)/$(1)/quote-server.exe $$< -o $$@
$(B)/$(1)/clock.exe: $(B)/$(1)/obj/samples/clock/clock.o
	$$(CC_$(1)) $$(CFLAGS_$(1)) $$< -o $$@
$(B)/$(1)/clock-fix.dll: $(B)/$(1)/obj/samples/clock-fix/clock-fix.o
	$$(CC_$(1)) $$(CFLAGS_$(1)) -shared $$< -o $$@
# clock-fix patches Wine's own kernelbase.dll (the prefix's copy is the same file)
$(B)/$(1)/clock-fix-kernelbase.dll: $(B)/$(1)/clock-fix.dll $(KERNELBASE_$(1)) $(B)/native/hotpe
	$(B)/native/hotpe build --base $(KERNELBASE_$(1)) $$< -o $$@
endef
KERNELBASE_x64 := /usr/lib/x86_64-linux-gnu/wine/x86_64-windows/kernelbase.dll
KERNELBASE_x86 := /usr/lib/i386-linux-gnu/wine/i386-windows/kernelbase.dll
SAMPLES += $(foreach a,x64 x86,$(addprefix $(B)/$(a)/,clock.exe clock-fix.dll \
    $(if $(wildcard $(KERNELBASE_$(a))),clock-fix-kernelbase.dll)))
$(foreach a,x64 x86,$(eval $(call SAMPLE_RULES,$(a))))
all: $(SAMPLES)

# ------------------------------------------------------------------------------------------
# Fuzzing (clang + libFuzzer + ASan + UBSan)
# ------------------------------------------------------------------------------------------
FUZZ_CC := $(LLVM_BIN)/clang
FUZZ_FLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude -Isdk/include
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

$(B)/fuzz/%: tests/fuzz/%.c $(PE_SRC) $(ENGINE_SRC) $(PE_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(PE_SRC) $(ENGINE_SRC) $(ZYDIS_LIBS_native) $(CRYPTO_LIBS_native) -o $@

# ------------------------------------------------------------------------------------------
# Top-level targets
# ------------------------------------------------------------------------------------------
LIBS := $(foreach a,native x64 x86,$(B)/$(a)/libhotpe-pe.a) $(B)/x64/libZydis.a $(B)/x86/libZydis.a

all: $(LIBS) $(HOTPE_BINS) $(addprefix $(B)/native/,$(TOOLS)) $(ORACLE) $(BENCH) $(WINPROGS)

deps:
	bash scripts/deps.sh

unit: $(addprefix $(B)/native/tests/,$(UNIT)) $(addprefix $(B)/asan/tests/,$(UNIT))
	@set -e; for t in $(UNIT); do echo "== $$t"; $(B)/native/tests/$$t; done
	@set -e; for t in $(UNIT); do echo "== $$t (ASan+UBSan)"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(B)/asan/tests/$$t; done

# Tests against independent readers (LIEF, llvm-readobj) on the Wine corpus.
oracle: all
	@set -e; for t in $(sort $(wildcard tests/oracle/test_*.sh)); do echo "== $$t"; bash $$t; done

# End-to-end tests under Wine (wine-tests/), x86 and x64, in one Wine prefix.
wine: all
	@set -e; for t in $(sort $(wildcard wine-tests/test_*.sh)); do echo "== $$t"; bash $$t; done

fuzz-smoke: FUZZ_SECONDS := 20
fuzz-smoke fuzz: $(addprefix $(B)/fuzz/,$(FUZZERS))
	@set -e; for f in $(FUZZERS); do bash tests/fuzz/run.sh $(B)/fuzz/$$f $(FUZZ_SECONDS); done

test: all unit oracle wine fuzz-smoke
	@echo "make test: all groups passed"

bench: all
	@set -e; for b in $(sort $(wildcard bench/bench_*.sh)); do bash $$b; done

# The live-patching demo (scripts/demo.sh): make demo, or make demo ARCH=x86
ARCH ?= x64
# the demo builds only what it runs (scripts/demo.sh asks make for each file)
demo:
	@bash scripts/demo.sh $(ARCH)

clean:
	rm -rf $(B)/native $(B)/asan $(B)/x64 $(B)/x86 $(B)/fuzz

# make install [PREFIX=/usr/local] [DESTDIR=/staging]: the native hotpe in bin/, each Windows
# build in lib/hotpe/x64/ and lib/hotpe/x86/, the SDK headers in include/hotpe/. hotpe.exe
# injects the hotpe-shim.dll of its own folder, and the 64-bit one hands 32-bit processes to
# ..\x86\hotpe.exe (applier/target.c): so each pair stays together, the two folders siblings.
PREFIX ?= /usr/local
INSTALL_BIN := $(DESTDIR)$(PREFIX)/bin
INSTALL_LIB := $(DESTDIR)$(PREFIX)/lib/hotpe
INSTALL_INC := $(DESTDIR)$(PREFIX)/include/hotpe
SDK_HDR := $(wildcard sdk/include/hotpe/*.h)

install: $(B)/native/hotpe $(foreach a,x64 x86,$(B)/$(a)/hotpe.exe $(B)/$(a)/hotpe-shim.dll) $(SDK_HDR)
	install -D -m 755 $(B)/native/hotpe $(INSTALL_BIN)/hotpe
	install -D -m 755 $(B)/x64/hotpe.exe $(INSTALL_LIB)/x64/hotpe.exe
	install -D -m 644 $(B)/x64/hotpe-shim.dll $(INSTALL_LIB)/x64/hotpe-shim.dll
	install -D -m 755 $(B)/x86/hotpe.exe $(INSTALL_LIB)/x86/hotpe.exe
	install -D -m 644 $(B)/x86/hotpe-shim.dll $(INSTALL_LIB)/x86/hotpe-shim.dll
	install -D -m 644 -t $(INSTALL_INC) $(SDK_HDR)

# removes what install wrote and hotpe's own folders; bin/, lib/ and include/ stay: other
# programs use them, and /usr/local's are there, empty, on a fresh system
uninstall:
	rm -f $(INSTALL_BIN)/hotpe $(foreach a,x64 x86,$(INSTALL_LIB)/$(a)/hotpe.exe \
	    $(INSTALL_LIB)/$(a)/hotpe-shim.dll) $(addprefix $(INSTALL_INC)/,$(notdir $(SDK_HDR)))
	rmdir --ignore-fail-on-non-empty $(INSTALL_LIB)/x64 $(INSTALL_LIB)/x86 $(INSTALL_LIB) \
	    $(INSTALL_INC) 2>/dev/null || true

.PHONY: FORCE all deps unit oracle wine fuzz fuzz-smoke test bench demo clean install uninstall
.SECONDARY:
