# mlp — a small language for training multilayer perceptrons.
#
#   make          build build/mlp (installs missing Debian packages first)
#   make run      build, then run the study (examples/study.mlp) on MNIST
#   make test     unit, golden and REPL tests; again under ASan/UBSan; golden under valgrind
#   make asan     build and test with AddressSanitizer + UBSan (build/asan/)
#   make valgrind golden language tests under valgrind (leaks are errors)
#   make bench    benchmarks against the reference systems (tests/bench/*/run.sh)
#   make bench-quick  every benchmark once at tiny sizes (part of make test)
#   make fuzz     fuzz the parser + compiler with libFuzzer (FUZZ_SECONDS=600)
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
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wundef -Wvla -Wno-unused-parameter
# Determinism: no implicit FMA contraction, no fast-math, ever.
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -ffp-contract=off -pthread -MMD -MP
LDFLAGS  := $(filter -fsanitize%,$(OPT)) -pthread
LDLIBS   := -lffi -ledit -lcurl -lcrypto -ljansson -lz -lm
GEN_CFLAGS := $(filter-out -Wmissing-prototypes -Wshadow,$(CFLAGS)) -Wno-sign-compare -Wno-unused-function

# ---- Debian packages ----------------------------------------------------
# Installed when missing, so a fresh machine needs only `make run`/`make test`.
DEB_BUILD := flex bison libffi-dev zlib1g-dev libcurl4-openssl-dev libedit-dev libssl-dev libjansson-dev
DEB_TEST  := libcriterion-dev valgrind clang libclang-rt-14-dev python3 python3-numpy dataset-fashion-mnist \
             openmpi-bin libopenmpi-dev
DEB_BENCH := lua5.4 python3-numpy python3-torch libopenblas0-pthread libopenblas-dev

define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q '^install ok installed' || echo $$p; done); \
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
build/.deps-bench: Makefile
	$(call install_missing,$(DEB_BENCH))
	$(call stamp,$(DEB_BENCH))
deps: build/.deps-build build/.deps-test

# ---- sources and layers ---------------------------------------------------
# Four layers, each compiled with the include path of what it may see, so an
# #include that reaches the wrong way fails to compile:
#   runtime/  C kernels and data; core <- kernels, expr <- data <- nn
#   lang/     the language core (syntax, compiler, vm): knows no runtime/stdlib
#   stdlib/   binds the language to the runtime
#   lang/cli  the program (main, REPL): sees everything
RT_CORE_INC := -Iruntime/core
RT_KERN_INC := $(RT_CORE_INC) -Iruntime/kernels
RT_EXPR_INC := $(RT_CORE_INC) -Iruntime/expr
RT_DATA_INC := $(RT_KERN_INC) -Iruntime/data
RT_INC      := $(RT_DATA_INC) -Iruntime/expr -Iruntime/nn
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
$(call obj,$(LANG_SRC)) $(OUT)/obj/gen/lexer.o $(OUT)/obj/gen/parser.o: INC := $(LANG_INC)
$(STD_OBJ):                                  INC := $(STD_INC)
$(CLI_OBJ) $(UNIT_OBJ):                      INC := $(ALL_INC)

MLP       := $(OUT)/mlp
UNIT      := $(OUT)/unit-tests

# The FFI example's C plugin (examples/ffi.mlp loads it from this path, in
# every build mode: a plain shared library needs no sanitizers).
PLUGIN    := build/examples/ffi/libplugin.so

all: $(MLP) $(PLUGIN)

$(PLUGIN): examples/ffi/plugin.c build/.deps-build
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 $(WARN) -ffp-contract=off -fPIC -shared $< -o $@ -lm

# Every object depends on the install step of the packages whose headers it
# may include (a normal prerequisite, so installing always comes first).
$(OUT)/obj/%.o: %.c build/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -c $< -o $@

$(UNIT_OBJ): build/.deps-test

$(OUT)/obj/gen/%.o: $(OUT)/gen/%.c build/.deps-build
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

$(UNIT): $(filter-out $(call obj,lang/cli/main.c),$(CLI_OBJ)) $(UNIT_OBJ) $(LIB_OBJ) build/.deps-test
	$(CC) $(LDFLAGS) $(filter %.o,$^) $(LDLIBS) -lcriterion -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

# ---- running --------------------------------------------------------------
export MLP_DATA_PATH ?= $(abspath ../shared/data)

# the study's sweep points run on every core (-j): same bytes as a serial run
run: $(MLP)
	$(MLP) -j $(shell nproc) examples/study.mlp

# ---- tests ----------------------------------------------------------------
# check: this build's tests; test: release then sanitizers.
check: $(MLP) $(UNIT) $(PLUGIN) | build/.deps-test
	$(UNIT) --jobs 2 --short-filename
	python3 tests/golden.py --mlp $(MLP) $(GOLDEN_FLAGS) tests/lang tests/nn tests/ext examples
	@if [ -f tests/repl/run.py ]; then python3 tests/repl/run.py --mlp $(MLP); fi
	python3 tests/nn/lion_numpy.py --mlp $(MLP)
	bash tests/par/run.sh $(MLP)
	/usr/bin/python3 tests/persist/interop.py --mlp $(MLP)
	python3 tests/persist/resume.py --mlp $(MLP)

test: check
	$(MAKE) --no-print-directory MODE=asan check
	$(MAKE) --no-print-directory valgrind
	$(MAKE) --no-print-directory bench-quick
	python3 tests/build/install_order.py

asan:
	$(MAKE) --no-print-directory MODE=asan check

valgrind: $(MLP) | build/.deps-test
	python3 tests/golden.py --mlp $(MLP) --wrap "valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99" tests/lang tests/nn tests/ext

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
	@for r in tests/bench/*/run.sh; do \
	  echo "== $$r (quick)"; BENCH_QUICK=1 MLP=$(abspath $(MLP)) OUT=$(abspath $(OUT)) bash $$r >/dev/null || \
	    { echo "bench failed: $$r (BENCH_QUICK=1)" >&2; exit 1; }; done

FUZZ_SECONDS ?= 600
FUZZ_BIN := build/fuzz/fuzz-parse
$(FUZZ_BIN): tests/fuzz/fuzz_parse.c $(LANG_SRC) $(STD_SRC) $(RT_SRC) lang/syntax/lexer.l lang/syntax/parser.y build/.deps-build build/.deps-test
	$(MAKE) --no-print-directory MODE=asan build/asan/gen/parser.c build/asan/gen/lexer.c build/asan/gen/stdlib_mlp.inc
	@mkdir -p build/fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -ffp-contract=off \
	  $(subst $(OUT)/gen,build/asan/gen,$(STD_INC)) -Wno-unused-function -Wno-sign-compare \
	  tests/fuzz/fuzz_parse.c $(LANG_SRC) build/asan/gen/lexer.c build/asan/gen/parser.c \
	  $(STD_SRC) $(RT_SRC) $(LDLIBS) -pthread -o $@

fuzz: $(FUZZ_BIN)
	@mkdir -p build/fuzz/corpus
	cp -n $$(find tests/lang -name "*.mlp") examples/*.mlp build/fuzz/corpus/ 2>/dev/null || true
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus

clean:
	rm -rf build

.PHONY: all run check test asan valgrind bench bench-quick fuzz clean deps docs
