# mlp — a small language for training multilayer perceptrons.
#
#   make          build build/mlp (installs missing Debian packages first)
#   make run      build, then run the study (examples/study.mlp) on MNIST
#   make test     unit, golden, REPL, parallel and report (headless Chromium) tests; again under ASan/UBSan; golden under valgrind;
#                 the aarch64 suites; every suite a target, run side by side on every core (TEST_JOBS)
#   make asan     build and test with AddressSanitizer + UBSan (build/asan/)
#   make valgrind golden language tests under valgrind (leaks are errors; a
#                 sweep point's process ends with _exit and the script's
#                 state still allocated, so forked children are not checked)
#   make tsan     the thread pool and what runs on it under ThreadSanitizer
#   make bench    benchmarks against the reference systems (tests/bench/*/run.sh)
#   make bench-quick  every benchmark once at tiny sizes (part of make test)
#   make fuzz     fuzz the parser + compiler with libFuzzer (FUZZ_SECONDS=600)
#   make fuzz-data  fuzz the data loaders (IDX, gzip, CSV) the same way
#   make fuzz-run fuzz the whole interpreter (parse, compile, run) the same way
#   make CROSS=aarch64  cross-build build/aarch64/mlp (and its unit tests)
#   make test-aarch64   that build's unit and golden tests under qemu-aarch64,
#                 NEON and scalar, 1 and 2 threads (part of make test)
#
# Release objects live in build/, sanitizer objects in build/asan/; generated
# Flex/Bison output and the embedded stdlib live in $(OUT)/gen and are never
# committed.

.DEFAULT_GOAL := all
SHELL := /bin/bash

MODE ?= release
ifeq ($(MODE),asan)
OUT      := build/asan
OPT      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# the study takes minutes under ASan: the release run covers it
GOLDEN_FLAGS := --skip-tag slow
else
OUT      := build
OPT      := -O2 -g
endif

CC       ?= cc
PKG_CONFIG := pkg-config
DEPS_BUILD := build/.deps-build
# Cross build for aarch64 (Debian's cross gcc and arm64 multiarch libraries,
# installed by build/.deps-cross); run under qemu-aarch64 by test-aarch64.
CROSS ?=
ifeq ($(CROSS),aarch64)
OUT        := build/aarch64
CC         := aarch64-linux-gnu-gcc
PKG_CONFIG := aarch64-linux-gnu-pkg-config
DEPS_BUILD += build/.deps-cross
else ifneq ($(CROSS),)
$(error CROSS=$(CROSS): the one cross target is aarch64)
endif
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wundef -Wvla -Wno-unused-parameter
# Determinism: no implicit FMA contraction, no fast-math, ever.
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -ffp-contract=off -pthread -MMD -MP
LDFLAGS  := $(filter -fsanitize%,$(OPT)) -pthread
LDLIBS    = -lffi -ledit -ljansson -lz -lm
# cairo (charts as PNG/SVG/PDF): asked of pkg-config when a recipe runs,
# after build/.deps-build has installed it. Its headers only: cairo,
# libcurl and libcrypto are opened at their first use (runtime/core/dynlib.h)
CAIRO_CFLAGS = $(shell $(PKG_CONFIG) --cflags cairo)
GEN_CFLAGS := $(filter-out -Wmissing-prototypes -Wshadow,$(CFLAGS)) -Wno-sign-compare -Wno-unused-function

# ---- Debian packages ----------------------------------------------------
# Installed when missing, so a fresh machine needs only `make run`/`make test`.
DEB_BUILD := flex bison libffi-dev zlib1g-dev libcurl4-openssl-dev libedit-dev libssl-dev \
             libjansson-dev libcairo2-dev pkg-config
DEB_TEST  := libcriterion-dev valgrind clang libclang-rt-14-dev python3 python3-numpy dataset-fashion-mnist \
             openmpi-bin libopenmpi-dev chromium python3-scipy
DEB_BENCH := lua5.4 python3-numpy python3-torch libopenblas0-pthread libopenblas-dev
# the cross build and its emulator (arm64 packages need the architecture
# added to dpkg first: build/.deps-cross does that). Not libcriterion-dev:arm64:
# it and its libnanomsg5 cannot be installed beside the amd64 ones (installing
# them removes the native Criterion), and Criterion cannot run under
# qemu-user anyway (it re-executes the test binary, which needs binfmt_misc);
# the aarch64 kernel tests are a plain C program (tests/aarch64/kernels.c).
DEB_CROSS := crossbuild-essential-arm64 qemu-user libffi-dev:arm64 zlib1g-dev:arm64 \
             libcurl4-openssl-dev:arm64 libedit-dev:arm64 libssl-dev:arm64 libjansson-dev:arm64 \
             libcairo2-dev:arm64

# One install at a time (make -j may reach two groups at once, and apt
# holds a lock): flock on build/.deps.lock. A package counts as installed
# only for the architecture asked for (the native one unless the name says
# :arm64): dpkg-query on a bare name also matches the arm64 copy the cross
# build installs, and `make run` once failed on ffi.h for that reason.
define install_missing
	@mkdir -p build; exec 9> build/.deps.lock; flock 9; \
	native=$$(dpkg --print-architecture); \
	missing=$$(for p in $(1); do \
	    case $$p in *:*) want=$${p##*:};; *) want=$$native;; esac; \
	    dpkg-query -W -f='$${Status} $${Architecture}\n' $${p%%:*} 2>/dev/null | \
	    grep -Eq "^install ok installed ($$want|all)$$" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

# The stamp holds the package list and is rewritten only when the list
# changes, so editing the Makefile re-checks the packages without making
# every object (which depends on its stamp) out of date.
stamp = @mkdir -p build; echo '$(1)' | cmp -s - $@ || echo '$(1)' > $@

build/.deps-build: Makefile
	$(call install_missing,$(DEB_BUILD))
	$(call stamp,$(DEB_BUILD))
build/.deps-test: Makefile
	$(call install_missing,$(DEB_TEST))
	$(call stamp,$(DEB_TEST))
build/.deps-cross: Makefile
	@mkdir -p build; exec 9> build/.deps.lock; flock 9; \
	dpkg --print-foreign-architectures | grep -qx arm64 || \
	  { sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; $$sudo dpkg --add-architecture arm64; }
	$(call install_missing,$(DEB_CROSS))
	$(call stamp,$(DEB_CROSS))
build/.deps-bench: Makefile
	$(call install_missing,$(DEB_BENCH))
	$(call stamp,$(DEB_BENCH))
deps: build/.deps-build build/.deps-test

# ---- sources and layers ---------------------------------------------------
# Four layers, each compiled with the include path of what it may see, so an
# #include that reaches the wrong way fails to compile:
#   runtime/  C kernels and data; core <- kernels, expr <- data <- nn;
#             report (charts, figures, HTML) sees core only
#   lang/     the language core (syntax, compiler, vm): knows no runtime/stdlib
#   stdlib/   binds the language to the runtime
#   lang/cli  the program (main, REPL): sees everything
RT_CORE_INC := -Iruntime/core
RT_KERN_INC := $(RT_CORE_INC) -Iruntime/kernels
RT_EXPR_INC := $(RT_CORE_INC) -Iruntime/expr
RT_DATA_INC := $(RT_KERN_INC) -Iruntime/data
RT_REPORT_INC = -Iruntime/report $(RT_CORE_INC) $(CAIRO_CFLAGS)
RT_INC      := $(RT_DATA_INC) -Iruntime/expr -Iruntime/nn -Iruntime/report
LANG_INC    := -Ilang/syntax -Ilang/compiler -Ilang/vm -I$(OUT)/gen
STD_INC     := $(LANG_INC) $(RT_INC) -Istdlib
ALL_INC     := $(STD_INC) -Ilang/cli

RT_SRC    := $(wildcard runtime/*/*.c)
LANG_SRC  := $(wildcard lang/syntax/*.c lang/compiler/*.c lang/vm/*.c)
CLI_SRC   := $(wildcard lang/cli/*.c)
STD_SRC   := $(wildcard stdlib/*.c)
STD_MLP   := $(wildcard stdlib/*.mlp)
GEN_SRC   := $(OUT)/gen/lexer.c $(OUT)/gen/parser.c
UNIT_SRC  := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))
RT_OBJ    := $(call obj,$(RT_SRC))
LANG_OBJ  := $(call obj,$(LANG_SRC)) $(OUT)/obj/gen/lexer.o $(OUT)/obj/gen/parser.o
STD_OBJ   := $(call obj,$(STD_SRC))
CLI_OBJ   := $(call obj,$(CLI_SRC))
UNIT_OBJ  := $(call obj,$(UNIT_SRC))
LIB_OBJ   := $(LANG_OBJ) $(STD_OBJ) $(RT_OBJ)

# the include path of an object, from the folder of its source
$(call obj,$(wildcard runtime/core/*.c)):    INC := $(RT_CORE_INC)
$(call obj,$(wildcard runtime/kernels/*.c)): INC := $(RT_KERN_INC)
$(call obj,$(wildcard runtime/expr/*.c)):    INC := $(RT_EXPR_INC)
$(call obj,$(wildcard runtime/data/*.c)):    INC := $(RT_DATA_INC)
$(call obj,$(wildcard runtime/nn/*.c)):      INC := $(RT_INC)
$(call obj,$(wildcard runtime/report/*.c)):  INC = $(RT_REPORT_INC)
$(call obj,$(LANG_SRC)) $(OUT)/obj/gen/lexer.o $(OUT)/obj/gen/parser.o: INC := $(LANG_INC)
$(STD_OBJ):                                  INC := $(STD_INC)
$(CLI_OBJ) $(UNIT_OBJ):                      INC := $(ALL_INC)

MLP       := $(OUT)/mlp
UNIT      := $(OUT)/unit-tests

# The FFI example's C plugin (examples/ffi.mlp loads it from this path, in
# every build mode: a plain shared library needs no sanitizers).
PLUGIN    := build/examples/ffi/libplugin.so
ifneq ($(CROSS),)
PLUGIN    := $(OUT)/examples/ffi/libplugin.so
endif

all: $(MLP) $(PLUGIN)

# -O3 -fno-math-errno lets GCC vectorise its loops (sqrtf's errno keeps
# the Adam loop scalar at -O2, and -O2's cost model skips loops needing
# an epilogue); neither changes a bit: sqrtps rounds as sqrtf does. Issue
# 18 (C relu + C Adam against the built-ins, tests/bench/ext): 2.2-2.4x
# the built-ins' epoch at -O2, 1.1-1.7x (mostly 1.3-1.4x) with these.
$(PLUGIN): examples/ffi/plugin.c $(DEPS_BUILD)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O3 -fno-math-errno $(WARN) -ffp-contract=off -fPIC -shared $< -o $@ -lm

# Every object depends on the install step of the packages whose headers it
# may include (a normal prerequisite, so installing always comes first).
$(OUT)/obj/%.o: %.c $(DEPS_BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -c $< -o $@

$(UNIT_OBJ): build/.deps-test

$(OUT)/obj/gen/%.o: $(OUT)/gen/%.c $(DEPS_BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(GEN_CFLAGS) $(INC) -c $< -o $@

$(OUT)/gen/parser.c $(OUT)/gen/parser.h &: lang/syntax/parser.y build/.deps-build
	@mkdir -p $(OUT)/gen
	bison -Wall -Werror --defines=$(OUT)/gen/parser.h -o $(OUT)/gen/parser.c $<

$(OUT)/gen/lexer.c $(OUT)/gen/lexer.h &: lang/syntax/lexer.l $(OUT)/gen/parser.h build/.deps-build
	@mkdir -p $(OUT)/gen
	flex --header-file=$(OUT)/gen/lexer.h -o $(OUT)/gen/lexer.c $<

# The stdlib's .mlp sources, embedded as C string literals (do not edit).
$(OUT)/gen/stdlib_mlp.inc: $(STD_MLP) Makefile
	@mkdir -p $(OUT)/gen
	@{ echo "/* generated by the Makefile from the stdlib .mlp files: do not edit */"; \
	  for f in $(STD_MLP); do \
	    printf '{ "%s",\n' "$$(basename $$f .mlp)"; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' -e 's/$$/\\n"/' $$f; \
	    echo "},"; \
	  done; } > $@

# Every hand-written object may include generated headers.
$(call obj,$(LANG_SRC) $(CLI_SRC) $(STD_SRC) $(UNIT_SRC)): $(OUT)/gen/parser.h $(OUT)/gen/lexer.h $(OUT)/gen/stdlib_mlp.inc

$(MLP): $(CLI_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Every kernel's output on many shapes and tails, written to a file
# (tests/aarch64/kernels.c): the paths and machines must write the same bytes.
KCHECK    := $(OUT)/kernel-check
$(call obj,tests/aarch64/kernels.c): INC := $(RT_INC)
$(KCHECK): $(call obj,tests/aarch64/kernels.c) $(RT_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(UNIT): $(filter-out $(call obj,lang/cli/main.c),$(CLI_OBJ)) $(UNIT_OBJ) $(LIB_OBJ) build/.deps-test
	$(CC) $(LDFLAGS) $(filter %.o,$^) $(LDLIBS) -lcrypto -lcriterion -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

# ---- running --------------------------------------------------------------
export MLP_DATA_PATH ?= $(abspath ../shared/data)

# the study's sweep points run on every core (-j): same bytes as a serial run
run: $(MLP)
	$(MLP) -j $(shell nproc) examples/study.mlp

# ---- tests ----------------------------------------------------------------
# check: this build's tests; test: release, sanitizers, aarch64, valgrind,
# benches. Each suite is a target of its own, so `make -j` runs suites side
# by side; `make test` does (TEST_JOBS, default every core), with
# --output-sync: a suite's output comes in one piece when it ends, headed
# "== SUITE [MODE]" and closed by its wall and CPU seconds. A failing suite
# fails the run (make names its target; the suite names the failing test).
# Twice the cores: the long suites (valgrind, qemu, the sanitizer sub-make)
# hold a job slot each for minutes, and with one slot per core the qemu parts
# could start only after two of them ended.
TEST_JOBS ?= $(shell echo $$(( 2 * $$(nproc) )))
# stage NAME: what a suite's command is prefixed with (bash's `time`: the
# seconds of the command and the children it waited for)
stage = @echo "== $(1) [$(MODE)]"; TIMEFORMAT="== $(1) [$(MODE)] done: %1R s wall, %1U s user, %1S s sys"; time
VALGRIND := valgrind -q --child-silent-after-fork=yes --leak-check=full \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=99

CHECKS := check-golden check-unit check-repl check-lion check-par check-interop check-resume \
          check-stats check-report check-hostile check-robust check-stress check-torch
check: $(CHECKS)
# the golden suites first: the longest, they should not start last
check-golden: $(MLP) $(PLUGIN) | build/.deps-test
	$(call stage,$@) python3 tests/golden.py --mlp $(MLP) $(GOLDEN_FLAGS) --times 5 tests/lang tests/nn tests/ext examples
check-unit: $(UNIT) | build/.deps-test
	$(call stage,$@) $(UNIT) --jobs 2 --short-filename
check-repl: $(MLP) | build/.deps-test
	$(call stage,$@) python3 tests/repl/run.py --mlp $(MLP)
check-lion: $(MLP) | build/.deps-test
	$(call stage,$@) python3 tests/nn/lion_numpy.py --mlp $(MLP)
check-par: $(MLP) | build/.deps-test
	$(call stage,$@) bash tests/par/run.sh $(MLP)
check-interop: $(MLP) | build/.deps-test
	$(call stage,$@) /usr/bin/python3 tests/persist/interop.py --mlp $(MLP)
check-resume: $(MLP) | build/.deps-test
	$(call stage,$@) python3 tests/persist/resume.py --mlp $(MLP)
check-stats: $(MLP) | build/.deps-test
	$(call stage,$@) /usr/bin/python3 tests/stats/check.py --mlp $(MLP)
check-report: $(MLP) | build/.deps-test
	$(call stage,$@) python3 tests/report/run.py --mlp $(MLP)
check-hostile: $(MLP) | build/.deps-test
	$(call stage,$@) python3 tests/data/hostile.py --mlp $(MLP)
check-robust: $(MLP) | build/.deps-test
	$(call stage,$@) bash tests/robust/run.sh $(MLP)
check-stress: $(MLP) | build/.deps-test
	$(call stage,$@) python3 tests/stress/run.py --mlp $(MLP)
check-torch: $(MLP) | build/.deps-test
	$(call stage,$@) /usr/bin/python3 tests/persist/torch_dialect.py --mlp $(MLP)

test:
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target test-all
# In the order make starts them: the long chains (aarch64 under qemu,
# valgrind) early, so that the short suites fill the cores at the end.
test-all: test-aarch64 valgrind check-asan check tsan install-order bench-quick
# (after the installs and the plugin both builds load: the sub-make would
# otherwise build the plugin too, at the same time)
check-asan: $(PLUGIN) | build/.deps-build build/.deps-test
	@$(MAKE) --no-print-directory MODE=asan check
install-order: | build/.deps-test
	$(call stage,$@) python3 tests/build/install_order.py

asan:
	$(MAKE) --no-print-directory MODE=asan check

# The aarch64 build under qemu-aarch64 (tests/aarch64/run.sh): unit tests
# and the golden suites, every output byte as on x86-64, at MLP_SIMD=neon
# and scalar, with 1 and 2 kernel threads; its parts are suites of their own.
AARCH64_PARTS := kernels golden-neon golden-scalar mnist
test-aarch64: $(addprefix aarch64-,$(AARCH64_PARTS))
# (the cross build needs nothing of the x86-64 one: it starts first, the
# parts then compare with build/mlp's and build/kernel-check's outputs)
aarch64-build: | build/.deps-build build/.deps-test
	@$(MAKE) --no-print-directory CROSS=aarch64 build/aarch64/mlp build/aarch64/kernel-check \
	  build/aarch64/examples/ffi/libplugin.so
$(addprefix aarch64-,$(AARCH64_PARTS)): aarch64-%: aarch64-build $(MLP) $(KCHECK) $(PLUGIN) | build/.deps-test
	$(call stage,$@) bash tests/aarch64/run.sh $*

# The thread pool and the work split across it under ThreadSanitizer.
tsan: | build/.deps-build
	$(call stage,$@) bash tests/tsan/run.sh

valgrind: $(MLP) | build/.deps-test
	$(call stage,$@) python3 tests/golden.py --mlp $(MLP) --wrap "$(VALGRIND)" --skip-tag slow --timeout 600 --times 5 tests/lang tests/nn tests/ext

# lang/LANGUAGE.md's optimizer and activation tables, rewritten from the
# runtime's tables (the unit test docs/* checks they agree).
docs: $(UNIT)
	MLP_UPDATE_DOCS=1 $(UNIT) --filter 'docs/language_md_tables'
	$(UNIT) --filter 'docs/*'

# ---- benchmarks and fuzzing -----------------------------------------------
# Every bench in turn; the first that fails stops the run and is named.
# bench-quick (run by make test): each once at tiny sizes, C drivers under
# UBSan, so a bench that can no longer run fails CI.
# The key figures (epoch ratios, 1-vs-2 threads, the study's wall time and
# memory), each beside its reference and target, are repeated at the end.
BENCH_SUMMARY := $(abspath $(OUT))/bench-summary.txt
bench: $(MLP) $(PLUGIN) build/.deps-bench
	@: > $(BENCH_SUMMARY); for r in tests/bench/*/run.sh; do \
	  echo "== $$r"; BENCH_SUMMARY=$(BENCH_SUMMARY) MLP=$(abspath $(MLP)) OUT=$(abspath $(OUT)) bash $$r || \
	    { echo "bench failed: $$r" >&2; exit 1; }; done; \
	  echo "== summary (issue 18 targets)"; cat $(BENCH_SUMMARY)

bench-quick: $(MLP) $(PLUGIN) build/.deps-bench
	$(call stage,$@) for r in tests/bench/*/run.sh; do \
	  echo "== $$r (quick)"; BENCH_QUICK=1 MLP=$(abspath $(MLP)) OUT=$(abspath $(OUT)) bash $$r >/dev/null || \
	    { echo "bench failed: $$r (BENCH_QUICK=1)" >&2; exit 1; }; done

FUZZ_SECONDS ?= 600
FUZZ_MAX_LEN ?= 65536
FUZZ_BIN := build/fuzz/fuzz-parse
FUZZ_RUN_BIN := build/fuzz/fuzz-run
FUZZ_CC = clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -ffp-contract=off \
	  $(subst $(OUT)/gen,build/asan/gen,$(STD_INC)) $(CAIRO_CFLAGS) -Wno-unused-function -Wno-sign-compare
build/fuzz/.gen: lang/syntax/lexer.l lang/syntax/parser.y $(STD_MLP) build/.deps-build build/.deps-test
	$(MAKE) --no-print-directory MODE=asan build/asan/gen/parser.c build/asan/gen/lexer.c build/asan/gen/stdlib_mlp.inc
	@mkdir -p build/fuzz && touch $@
# (one compiler run each, with no dependency files: every header counts)
FUZZ_HDR := $(wildcard lang/*/*.h stdlib/*.h runtime/*/*.h)
$(FUZZ_BIN): tests/fuzz/fuzz_parse.c $(LANG_SRC) $(STD_SRC) $(RT_SRC) $(FUZZ_HDR) build/fuzz/.gen
	$(FUZZ_CC) tests/fuzz/fuzz_parse.c $(LANG_SRC) build/asan/gen/lexer.c build/asan/gen/parser.c \
	  $(STD_SRC) $(RT_SRC) $(LDLIBS) -pthread -o $@
$(FUZZ_RUN_BIN): tests/fuzz/fuzz_run.c $(LANG_SRC) $(STD_SRC) $(RT_SRC) $(FUZZ_HDR) build/fuzz/.gen
	$(FUZZ_CC) tests/fuzz/fuzz_run.c $(LANG_SRC) build/asan/gen/lexer.c build/asan/gen/parser.c \
	  $(STD_SRC) $(RT_SRC) $(LDLIBS) -pthread -o $@

# the corpus: every test and example, plus large generated inputs
# (tests/fuzz/gen_corpus.py) that small mutations would take long to reach
fuzz-corpus:
	@mkdir -p build/fuzz/corpus
	cp -n $$(find tests/lang -name "*.mlp") examples/*.mlp build/fuzz/corpus/ 2>/dev/null || true
	python3 tests/fuzz/gen_corpus.py build/fuzz/corpus

fuzz: $(FUZZ_BIN) fuzz-corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -timeout=20 build/fuzz/corpus

# runs programs too: in a scratch directory (fuzzed programs may import or
# save files relative to it), with a CPU limit per input (fuzz_run.c)
fuzz-run: $(FUZZ_RUN_BIN) fuzz-corpus
	@mkdir -p build/fuzz/run-corpus build/fuzz/scratch
	cp -n build/fuzz/corpus/* build/fuzz/run-corpus/ 2>/dev/null || true
	cd build/fuzz/scratch && ASAN_OPTIONS=allocator_may_return_null=1 \
	  ../fuzz-run -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	  -malloc_limit_mb=512 -rss_limit_mb=1536 -timeout=10 ../run-corpus

# The data loaders (IDX plain and gzip, CSV) from bytes: tests/fuzz/fuzz_data.c.
FUZZ_DATA_BIN := build/fuzz/fuzz-data
$(FUZZ_DATA_BIN): tests/fuzz/fuzz_data.c $(RT_SRC) $(wildcard runtime/*/*.h) build/.deps-build build/.deps-test
	@mkdir -p build/fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -ffp-contract=off \
	  $(RT_INC) $(CAIRO_CFLAGS) -Wno-unused-function -Wno-sign-compare \
	  tests/fuzz/fuzz_data.c $(RT_SRC) $(LDLIBS) -pthread -o $@

fuzz-data: $(FUZZ_DATA_BIN)
	@mkdir -p build/fuzz/corpus-data
	python3 tests/fuzz/data_seeds.py build/fuzz/corpus-data
	$(FUZZ_DATA_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=131072 -rss_limit_mb=2048 \
	  -timeout=10 build/fuzz/corpus-data

clean:
	rm -rf build

.PHONY: all run check test test-all test-aarch64 asan tsan valgrind bench bench-quick fuzz fuzz-run fuzz-corpus fuzz-data clean deps docs \
        $(CHECKS) check-asan install-order aarch64-build $(addprefix aarch64-,$(AARCH64_PARTS))
