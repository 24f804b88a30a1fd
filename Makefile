# mlp — a small language for training multilayer perceptrons.
#
#   make          build build/mlp (installs missing Debian packages first)
#   make run      build, then run the study (examples/study.mlp) on MNIST
#   make test     unit tests, golden tests, REPL tests, then the same under ASan/UBSan
#   make asan     build and test with AddressSanitizer + UBSan (build/asan/)
#   make valgrind golden language tests under valgrind (leaks are errors)
#   make bench    benchmarks against the reference systems (tests/bench/*/run.sh)
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
else
OUT      := build
OPT      := -O2 -g
endif

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wundef -Wvla -Wno-unused-parameter
# Determinism: no implicit FMA contraction, no fast-math, ever.
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -ffp-contract=off -pthread -MMD -MP \
            -Ilang -Iruntime -Istdlib -I$(OUT)/gen
LDFLAGS  := $(filter -fsanitize%,$(OPT)) -pthread
LDLIBS   := -lffi -ledit -lcurl -lcrypto -lz -lm
GEN_CFLAGS := $(filter-out -Wmissing-prototypes -Wshadow,$(CFLAGS)) -Wno-sign-compare -Wno-unused-function

# ---- Debian packages ----------------------------------------------------
# Installed when missing, so a fresh machine needs only `make run`/`make test`.
DEB_BUILD := flex bison libffi-dev zlib1g-dev libcurl4-openssl-dev libedit-dev libssl-dev
DEB_TEST  := libcriterion-dev valgrind clang libclang-rt-14-dev python3 dataset-fashion-mnist
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

build/.deps-build: Makefile
	$(call install_missing,$(DEB_BUILD))
	@mkdir -p build && touch $@
build/.deps-test: Makefile
	$(call install_missing,$(DEB_TEST))
	@mkdir -p build && touch $@
build/.deps-bench: Makefile
	$(call install_missing,$(DEB_BENCH))
	@mkdir -p build && touch $@
deps: build/.deps-build build/.deps-test

# ---- sources --------------------------------------------------------------
RT_SRC    := $(wildcard runtime/*.c)
LANG_SRC  := $(filter-out lang/main.c,$(wildcard lang/*.c))
STD_SRC   := $(wildcard stdlib/*.c)
STD_MLP   := $(wildcard stdlib/*.mlp)
GEN_SRC   := $(OUT)/gen/lexer.c $(OUT)/gen/parser.c
UNIT_SRC  := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))
RT_OBJ    := $(call obj,$(RT_SRC))
LANG_OBJ  := $(call obj,$(LANG_SRC)) $(OUT)/obj/gen/lexer.o $(OUT)/obj/gen/parser.o
STD_OBJ   := $(call obj,$(STD_SRC))
MAIN_OBJ  := $(call obj,lang/main.c)
UNIT_OBJ  := $(call obj,$(UNIT_SRC))
LIB_OBJ   := $(LANG_OBJ) $(STD_OBJ) $(RT_OBJ)

MLP       := $(OUT)/mlp
UNIT      := $(OUT)/unit-tests

all: $(MLP)

$(OUT)/obj/%.o: %.c | build/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/obj/gen/%.o: $(OUT)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GEN_CFLAGS) -c $< -o $@

$(OUT)/gen/parser.c $(OUT)/gen/parser.h: lang/parser.y | build/.deps-build
	@mkdir -p $(OUT)/gen
	bison -Wall -Werror --defines=$(OUT)/gen/parser.h -o $(OUT)/gen/parser.c $<

$(OUT)/gen/lexer.c $(OUT)/gen/lexer.h: lang/lexer.l $(OUT)/gen/parser.h | build/.deps-build
	@mkdir -p $(OUT)/gen
	flex --header-file=$(OUT)/gen/lexer.h -o $(OUT)/gen/lexer.c $<

# The stdlib's .mlp sources, embedded as C string literals (do not edit).
$(OUT)/gen/stdlib_mlp.inc: $(STD_MLP) Makefile
	@mkdir -p $(OUT)/gen
	@{ echo "/* generated from stdlib/*.mlp by the Makefile: do not edit */"; \
	  for f in $(STD_MLP); do \
	    printf '{ "%s",\n' "$$(basename $$f .mlp)"; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' -e 's/$$/\\n"/' $$f; \
	    echo "},"; \
	  done; } > $@

# Every hand-written object may include generated headers.
$(call obj,$(LANG_SRC) lang/main.c $(STD_SRC) $(UNIT_SRC)): $(OUT)/gen/parser.h $(OUT)/gen/lexer.h $(OUT)/gen/stdlib_mlp.inc

$(MLP): $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(UNIT): $(UNIT_OBJ) $(LIB_OBJ) | build/.deps-test
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcriterion -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

# ---- running --------------------------------------------------------------
export MLP_DATA_PATH ?= $(abspath ../shared/data)

run: $(MLP)
	$(MLP) examples/study.mlp

# ---- tests ----------------------------------------------------------------
# check: this build's tests; test: release then sanitizers.
check: $(MLP) $(UNIT) | build/.deps-test
	$(UNIT) --jobs 2 --short-filename
	python3 tests/golden.py --mlp $(MLP) tests/lang examples
	@if [ -f tests/repl/run.py ]; then python3 tests/repl/run.py --mlp $(MLP); fi

test: check
	$(MAKE) --no-print-directory MODE=asan check

asan:
	$(MAKE) --no-print-directory MODE=asan check

valgrind: $(MLP) | build/.deps-test
	python3 tests/golden.py --mlp $(MLP) --wrap "valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99" tests/lang

# ---- benchmarks and fuzzing -----------------------------------------------
bench: $(MLP) build/.deps-bench
	@for r in tests/bench/*/run.sh; do \
	  echo "== $$r"; MLP=$(abspath $(MLP)) OUT=$(abspath $(OUT)) bash $$r || exit 1; done

FUZZ_SECONDS ?= 600
FUZZ_BIN := build/fuzz/fuzz-parse
$(FUZZ_BIN): tests/fuzz/fuzz_parse.c $(LANG_SRC) lang/lexer.l lang/parser.y | build/.deps-test
	$(MAKE) --no-print-directory MODE=asan build/asan/gen/parser.c build/asan/gen/lexer.c build/asan/gen/stdlib_mlp.inc
	@mkdir -p build/fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -ffp-contract=off \
	  -Ilang -Iruntime -Istdlib -Ibuild/asan/gen -Wno-unused-function -Wno-sign-compare \
	  tests/fuzz/fuzz_parse.c $(LANG_SRC) build/asan/gen/lexer.c build/asan/gen/parser.c \
	  $(STD_SRC) $(RT_SRC) $(LDLIBS) -pthread -o $@

fuzz: $(FUZZ_BIN)
	@mkdir -p build/fuzz/corpus
	cp -n tests/lang/*.mlp examples/*.mlp build/fuzz/corpus/ 2>/dev/null || true
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus

clean:
	rm -rf build

.PHONY: all run check test asan valgrind bench fuzz clean deps
