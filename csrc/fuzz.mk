# libFuzzer targets (../tests/fuzz/fuzz_*.c), built with clang; included from Makefile.
#   make fuzz        build every target and run each for FUZZ_TIME seconds (default 10)
#                    from its committed seeds; the CI smoke run (under 2 minutes)
#   make fuzz-long   the same for FUZZ_LONG_TIME seconds each (default 3600), one target
#                    after another on one core; the corpus grows in $(FUZZ_OUT)/corpus
#   make fuzz-build  only build; targets land in $(FUZZ_OUT)/<name>
# Runs go through ../tests/fuzz/run.sh (options, dictionaries, corpora). A target that
# crashes leaves crash-* / leak-* / timeout-* in $(FUZZ_OUT)/artifacts and fails the
# make. Needs clang (and llvm for symbolized stacks).
FUZZ_CC        ?= clang
FUZZ_OUT       ?= $(OUT)/fuzz
FUZZ_TIME      ?= 10
FUZZ_LONG_TIME ?= 3600
FUZZ_DIR       := ../tests/fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS    := -std=c11 -g -O1 $(WARN) -Iinclude -Itests -I$(FUZZ_DIR) $(FUZZ_SAN)
FUZZ_TARGETS   := $(patsubst $(FUZZ_DIR)/%.c,%,$(sort $(wildcard $(FUZZ_DIR)/fuzz_*.c)))
FUZZ_TARGETS   := $(filter-out fuzz_common,$(FUZZ_TARGETS))
FUZZ_HELPERS   := $(filter-out $(FUZZ_DIR)/fuzz_%.c,$(wildcard $(FUZZ_DIR)/*.c)) \
                  $(FUZZ_DIR)/fuzz_common.c
FUZZ_LIB_OBJ   := $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(LIB_SRC))
# The manager target drives its server through the C tests' socket-pair helper.
FUZZ_HELP_OBJ  := $(patsubst $(FUZZ_DIR)/%.c,$(FUZZ_OUT)/obj/helpers/%.o,$(FUZZ_HELPERS)) \
                  $(FUZZ_OUT)/obj/tests/pair_server.o
FUZZ_HEADERS   := $(HEADERS) $(wildcard $(FUZZ_DIR)/*.h) tests/pair_server.h

.PHONY: fuzz fuzz-long fuzz-build
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_HELP_OBJ)
fuzz-build: $(addprefix $(FUZZ_OUT)/,$(FUZZ_TARGETS))

# The library is instrumented for coverage (fuzzer-no-link); only targets link libFuzzer.
$(FUZZ_OUT)/obj/%.o: %.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/obj/helpers/%.o: $(FUZZ_DIR)/%.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/%: $(FUZZ_DIR)/%.c $(FUZZ_LIB_OBJ) $(FUZZ_HELP_OBJ) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_HELP_OBJ) \
	  $(FUZZ_LIB_OBJ) -o $@ -lz -pthread

fuzz: fuzz-build
	../tests/fuzz/run.sh $(FUZZ_OUT) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-long: fuzz-build
	../tests/fuzz/run.sh $(FUZZ_OUT) $(FUZZ_LONG_TIME) $(FUZZ_TARGETS)
