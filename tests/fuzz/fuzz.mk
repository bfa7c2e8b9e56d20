# fragment: see Makefile.am
# libFuzzer targets, built only with ./configure --enable-fuzz CC=clang.
# tests/fuzz/run.sh runs them (seed corpora gathered from ../shared/fixtures
# at run time by tests/fuzz/seeds.sh; dictionaries of Keras keys beside).
if ENABLE_FUZZ
noinst_PROGRAMS = tests/fuzz/fuzz_model tests/fuzz/fuzz_config tests/fuzz/fuzz_input \
	tests/fuzz/fuzz_slice tests/fuzz/fuzz_session
tests_fuzz_fuzz_model_SOURCES = tests/fuzz/fuzz_model.c
tests_fuzz_fuzz_model_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_model_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_input_SOURCES = tests/fuzz/fuzz_input.c
tests_fuzz_fuzz_input_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_input_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_slice_SOURCES = tests/fuzz/fuzz_slice.c
tests_fuzz_fuzz_slice_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_slice_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_session_SOURCES = tests/fuzz/fuzz_session.c
tests_fuzz_fuzz_session_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_session_LDFLAGS = $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/fuzz/fuzz_model.c tests/fuzz/fuzz_config.c tests/fuzz/fuzz_input.c \
	tests/fuzz/fuzz_slice.c tests/fuzz/fuzz_session.c tests/fuzz/run.sh tests/fuzz/seeds.sh tests/fuzz/model.dict \
	tests/fuzz/config.dict tests/fuzz/input.dict tests/fuzz/slice.dict \
	tests/fuzz/session.dict
