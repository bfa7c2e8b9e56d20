# Tests. Each cmocka program links only the core library (never curses/readline).
TEST_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS) -DKS_TEST_SRCDIR='"$(abs_top_srcdir)"'
TEST_LDADD = $(CORE_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/ks_test.h

if HAVE_CMOCKA
check_PROGRAMS += tests/test_util
tests_test_util_SOURCES = tests/test_util.c
tests_test_util_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_util_LDADD = $(TEST_LDADD)
endif
TESTS += $(check_PROGRAMS)

# Report area (helper C): statistics, slices.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_slice
tests_test_slice_SOURCES = tests/test_slice.c
tests_test_slice_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_slice_LDADD = $(TEST_LDADD)
endif
