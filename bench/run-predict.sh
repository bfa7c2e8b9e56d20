#!/bin/sh
# Benchmarks kerascope against PyTorch on the big models (see bench/README).
#   bench/run-predict.sh BUILDDIR [BIGDIR] [REPEAT]
# BUILDDIR: a configured build tree (bench/ks_bench and kerascope are built
# there); BIGDIR: where /work/shared/bench/mkbig.py wrote its files (default
# /tmp/ks-big; generated when missing). Never point BIGDIR into the source tree.
# Rows: OpenBLAS' sgemm peak on this machine, then for each model kerascope
# and PyTorch one after the other with the same settings: batch 1 and 8, one
# and two threads; then VGG16's per-layer profile (predict --profile). Every
# row prints wall and CPU time: on a shared machine CPU time is the stable
# number (see the README on noise). Set NICE=-5 to run at a higher priority.
set -eu
build=${1:?usage: run-predict.sh BUILDDIR [BIGDIR] [REPEAT]}
big=${2:-/tmp/ks-big}
repeat=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
mkbig=${MKBIG:-$here/../../shared/bench/mkbig.py}

[ -f "$big/vgg16.h5" ] || /usr/bin/python3 "$mkbig" "$big"
[ -f "$big/mlp.h5" ] || /usr/bin/python3 "$here/mkmlp.py" "$big" "$(dirname "$mkbig")"
make -C "$build" bench/ks_bench kerascope >/dev/null
env | grep '^OPENBLAS' || echo "(no OPENBLAS_* variables set)"
echo "load: $(cat /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"

nice_cmd=""
[ -n "${NICE:-}" ] && nice -n "$NICE" true 2>/dev/null && nice_cmd="nice -n $NICE"
run() { # label, command...
	label=$1; shift
	printf '\n== %s\n' "$label"
	$nice_cmd "$@"
}
# threads batch model repeat: kerascope, then PyTorch, same settings
pair() {
	t=$1 b=$2 m=$3 n=$4
	run "kerascope $m batch $b, $t thread(s)" env OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
		"$build/bench/ks_bench" "$big/$m.h5" --repeat "$n" --batch "$b"
	run "pytorch $m batch $b, $t thread(s)" env OMP_NUM_THREADS="$t" \
		/usr/bin/python3 "$here/torch_ref.py" "$big/$m.h5" --repeat "$n" --batch "$b" --threads "$t"
}
run "sgemm peak, one thread" env OPENBLAS_NUM_THREADS=1 "$build/bench/ks_bench" --sgemm-peak
for m in vgg16 lstm3; do
	pair 1 1 $m "$repeat"
	pair 1 8 $m "$repeat"
	pair 2 1 $m "$repeat"
	pair 2 8 $m "$repeat"
done
pair 1 1 mlp 1000
run "kerascope vgg16 --profile, one thread" env OPENBLAS_NUM_THREADS=1 \
	"$build/kerascope" predict "$big/vgg16.h5" --random 1 --repeat "$repeat" --profile --top 1
echo "load: $(cat /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
