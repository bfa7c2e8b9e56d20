#!/bin/sh
# Benchmarks kerascope against PyTorch on the big models (see bench/README).
#   bench/run-predict.sh BUILDDIR [BIGDIR] [REPEAT]
# BUILDDIR: a configured build tree (bench/ks_bench is built there);
# BIGDIR: where /work/shared/bench/mkbig.py wrote its files (default /tmp/ks-big;
# generated when missing). Never point BIGDIR into the source tree.
set -eu
build=${1:?usage: run-predict.sh BUILDDIR [BIGDIR] [REPEAT]}
big=${2:-/tmp/ks-big}
repeat=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
mkbig=${MKBIG:-$here/../../shared/bench/mkbig.py}

[ -f "$big/vgg16.h5" ] || /usr/bin/python3 "$mkbig" "$big"
[ -f "$big/mlp.h5" ] || /usr/bin/python3 "$here/mkmlp.py" "$big" "$(dirname "$mkbig")"
make -C "$build" bench/ks_bench >/dev/null
env | grep '^OPENBLAS' || echo "(no OPENBLAS_* variables set)"

run() { # label, command...
	label=$1; shift
	printf '\n== %s\n' "$label"
	"$@"
}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
for m in vgg16 lstm3; do
	run "kerascope $m" "$build/bench/ks_bench" "$big/$m.h5" --repeat "$repeat"
	run "pytorch $m" /usr/bin/python3 "$here/torch_ref.py" "$big/$m.h5" --repeat "$repeat"
done
run "kerascope mlp" "$build/bench/ks_bench" "$big/mlp.h5" --repeat 1000
run "pytorch mlp" /usr/bin/python3 "$here/torch_ref.py" "$big/mlp.h5" --repeat 1000
