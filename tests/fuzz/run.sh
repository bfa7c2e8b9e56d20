#!/bin/sh
# Runs the libFuzzer targets of a build configured with --enable-fuzz:
#   tests/fuzz/run.sh BUILDDIR SECONDS [TARGET...]
# Each target (default: all five) runs SECONDS of wall time under nice, from
# its corpus in BUILDDIR/fuzz-corpus/TARGET (kept between runs, seeded from
# ../shared/fixtures by seeds.sh when new) with its dictionary. A crash,
# leak, timeout (10 s) or memory blow-up (2 GB) leaves its input in
# BUILDDIR/fuzz-artifacts/ and makes the script fail. Prints the executions
# and CPU seconds of each target.
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILDDIR SECONDS [TARGET...]}" && pwd)
secs=${2:?usage: run.sh BUILDDIR SECONDS [TARGET...]}
shift 2
targets=${*:-fuzz_model fuzz_config fuzz_input fuzz_slice fuzz_session}
fixtures=${KERASCOPE_FIXTURES:-$here/../../../shared/fixtures}
corpus=$build/fuzz-corpus
art=$build/fuzz-artifacts
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$here/../lsan.supp"
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1}"
mkdir -p "$art"
if [ ! -d "$corpus" ]; then
	if [ ! -d "$fixtures" ]; then
		echo "fuzz: no fixtures at $fixtures for the seed corpora (set KERASCOPE_FIXTURES)" >&2
		exit 99
	fi
	"$here/seeds.sh" "$fixtures" "$corpus.seeds"
	for t in fuzz_model fuzz_config fuzz_input fuzz_slice; do
		mkdir -p "$corpus/$t"
	done
	cp "$corpus.seeds"/model/* "$corpus/fuzz_model/"
	cp "$corpus.seeds"/config/* "$corpus/fuzz_config/"
	cp "$corpus.seeds"/input/* "$corpus/fuzz_input/"
	cp "$corpus.seeds"/slice/* "$corpus/fuzz_slice/"
	rm -rf "$corpus.seeds"
fi
if [ ! -d "$corpus/fuzz_session" ]; then
	# sessions are kerascope's own files: the build's kerascope records a
	# few from the bundled example (inputs, outputs, activations), and a
	# handful of model files stand for the HDF5 files that are not sessions
	mkdir -p "$corpus/fuzz_session"
	ks=$build/kerascope ex=$here/../../examples
	if [ -x "$ks" ]; then
		"$ks" predict "$ex/iris_mlp.h5" --input "$ex/iris_sample.npy" \
			--record "$corpus/fuzz_session/s1" >/dev/null 2>&1 || true
		"$ks" predict "$ex/iris_mlp.keras" --input "$ex/iris_sample.npy" --record-activations \
			--record "$corpus/fuzz_session/s2" >/dev/null 2>&1 || true
		"$ks" predict "$ex/iris_mlp.h5" --random 3 \
			--record "$corpus/fuzz_session/s3" >/dev/null 2>&1 || true
	fi
	ls "$corpus/fuzz_model" | head -n 8 | while read -r f; do
		cp "$corpus/fuzz_model/$f" "$corpus/fuzz_session/"
	done
	[ -n "$(ls "$corpus/fuzz_session")" ] || { echo "fuzz: no seeds for fuzz_session" >&2; exit 99; }
fi
status=0
for t in $targets; do
	bin=$build/tests/fuzz/$t
	dict=$here/${t#fuzz_}.dict
	maxlen=4096
	[ "$t" = fuzz_model ] && maxlen=1048576
	[ "$t" = fuzz_session ] && maxlen=65536
	[ -x "$bin" ] || { echo "fuzz: $bin is not built (configure --enable-fuzz CC=clang)" >&2; exit 99; }
	log=$build/fuzz-$t.$$.log
	if ! nice -n 10 /usr/bin/time -f '%U %S' -o "$log.cpu" "$bin" "$corpus/$t" -dict="$dict" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len="$maxlen" -artifact_prefix="$art/$t-" -print_final_stats=1 \
		>"$log" 2>&1; then
		echo "fuzz: $t FOUND SOMETHING (see $log and $art)"
		grep -m 5 -E 'ERROR|SUMMARY|Test unit written' "$log" || true
		status=1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$log.cpu" 2>/dev/null)
	echo "fuzz: $t: ${execs:-?} executions, ${cpu:-?} CPU seconds in ${secs}s," \
		"corpus $(ls "$corpus/$t" | wc -l) inputs"
done
exit $status
