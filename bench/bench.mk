# fragment: see Makefile.am
# Benchmarks are run by hand (bench/README), never by `make check`:
# `make bench/ks_bench` builds the driver.
EXTRA_PROGRAMS = bench/ks_bench bench/mkchain bench/mkweights
bench_mkweights_SOURCES = bench/mkweights.c
bench_mkweights_LDADD = $(CORE_LIBS)
bench_mkchain_SOURCES = bench/mkchain.c
bench_mkchain_LDADD = $(CORE_LIBS)
bench_ks_bench_SOURCES = bench/ks_bench.c
bench_ks_bench_LDADD = $(CORE_LIBS)
CLEANFILES += bench/ks_bench bench/mkchain bench/mkweights
EXTRA_DIST += bench/README bench/run-predict.sh bench/torch_ref.py bench/mkmlp.py \
	bench/bench-open.sh bench/OPEN.md bench/bench-session.sh bench/bench-evaluate.sh \
	bench/bench-diff.sh bench/bench-lib.sh bench/bench-stats.sh
