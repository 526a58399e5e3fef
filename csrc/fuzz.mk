# libFuzzer targets (../tests/fuzz/fuzz_*.c), built with clang; included from Makefile.
#   make fuzz        build every target and run each for FUZZ_TIME seconds (default 10)
#                    from its committed seeds; the CI smoke run (under 2 minutes)
#   make fuzz-long   the same for FUZZ_LONG_TIME seconds each (default 3600), one target
#                    after another on one core; the corpus grows in $(FUZZ_OUT)/corpus
#   make fuzz-build  only build; targets land in $(FUZZ_OUT)/<name>
# A target that crashes leaves crash-* / leak-* / timeout-* in $(FUZZ_OUT)/artifacts and
# fails the make. Needs clang (and llvm for symbolized stacks).
FUZZ_CC        ?= clang
FUZZ_OUT       ?= $(OUT)/fuzz
FUZZ_TIME      ?= 10
FUZZ_LONG_TIME ?= 3600
FUZZ_DIR       := ../tests/fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS    := -std=c11 -g -O1 $(WARN) -Iinclude -I$(FUZZ_DIR) $(FUZZ_SAN)
FUZZ_TARGETS   := $(patsubst $(FUZZ_DIR)/%.c,%,$(sort $(wildcard $(FUZZ_DIR)/fuzz_*.c)))
FUZZ_TARGETS   := $(filter-out fuzz_common,$(FUZZ_TARGETS))
FUZZ_HELPERS   := $(filter-out $(FUZZ_DIR)/fuzz_%.c,$(wildcard $(FUZZ_DIR)/*.c)) \
                  $(FUZZ_DIR)/fuzz_common.c
FUZZ_LIB_OBJ   := $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(LIB_SRC))
FUZZ_HELP_OBJ  := $(patsubst $(FUZZ_DIR)/%.c,$(FUZZ_OUT)/obj/helpers/%.o,$(FUZZ_HELPERS))
FUZZ_HEADERS   := $(HEADERS) $(wildcard $(FUZZ_DIR)/*.h)
# libFuzzer options for every run: inputs up to 64 KiB, one core, a crash on any leak.
FUZZ_OPTS      := -max_len=65536 -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
                  -artifact_prefix=$(FUZZ_OUT)/artifacts/

.PHONY: fuzz fuzz-long fuzz-build
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_HELP_OBJ)
fuzz-build: $(addprefix $(FUZZ_OUT)/,$(FUZZ_TARGETS))

# The library is instrumented for coverage (fuzzer-no-link); only targets link libFuzzer.
$(FUZZ_OUT)/obj/%.o: %.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/obj/helpers/%.o: $(FUZZ_DIR)/%.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE -Itests -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/%: $(FUZZ_DIR)/%.c $(FUZZ_LIB_OBJ) $(FUZZ_HELP_OBJ) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE -fsanitize=fuzzer $< $(FUZZ_HELP_OBJ) \
	  $(FUZZ_LIB_OBJ) -o $@ -lz -pthread

# One target: a fresh working corpus seeded from the committed one, then a timed run.
# The committed seeds are never written to (new inputs go to the working corpus).
define fuzz_run
	@mkdir -p $(FUZZ_OUT)/corpus/$(1) $(FUZZ_OUT)/artifacts
	@echo "== $(1): $(2) s"
	@dict=$(FUZZ_DIR)/dict/$(1:fuzz_%=%).dict; \
	if [ -f $$dict ]; then dict=-dict=$$dict; else dict=; fi; \
	$(FUZZ_OUT)/$(1) $(FUZZ_OPTS) -max_total_time=$(2) -print_final_stats=1 $$dict \
	  $(FUZZ_OUT)/corpus/$(1) $(FUZZ_DIR)/corpus/$(1:fuzz_%=%) 2>$(FUZZ_OUT)/$(1).log \
	  || { tail -50 $(FUZZ_OUT)/$(1).log; exit 1; }; \
	grep -E 'stat::number_of_executed_units|stat::new_units_added' $(FUZZ_OUT)/$(1).log
endef

fuzz: fuzz-build
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t),$(FUZZ_TIME))
	)

fuzz-long: fuzz-build
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t),$(FUZZ_LONG_TIME))
	)
