#!/bin/sh
# bench-session.sh BUILDDIR MODEL [INPUT_ARGS...]: what recording a session
# and replaying it cost next to a plain predict (run by hand; bench/README).
# For each of
#   predict                      (the baseline)
#   predict --record S           (+ both digests: every weight read once more)
#   predict --record S --record-activations
#   replay S                     (open, digest, run, compare)
# prints wall and CPU seconds and peak memory (/usr/bin/time), and the
# session's size. INPUT_ARGS default to --random 1.
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILDDIR MODEL [INPUT_ARGS...]" >&2; exit 2; }
ks=$1/kerascope
model=$2
shift 2
[ $# -gt 0 ] || set -- --random 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ksbench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1
t() {
	label=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	read -r wall user sys kb <"$tmp/time"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
	printf '%-40s exit %d  %6.2f s wall  %6.2f s cpu  %7d KB peak\n' "$label" "$rc" "$wall" "$cpu" "$kb"
}
t "predict" "$ks" predict "$model" "$@"
t "predict --record" "$ks" predict "$model" "$@" --record "$tmp/s.h5"
t "predict --record --record-activations" "$ks" predict "$model" "$@" --record "$tmp/a.h5" \
	--record-activations
t "replay (recorded model)" "$ks" replay "$tmp/s.h5"
t "replay (with activations)" "$ks" replay "$tmp/a.h5"
printf 'session sizes: %s bytes, %s bytes with activations; model %s bytes\n' \
	"$(wc -c <"$tmp/s.h5")" "$(wc -c <"$tmp/a.h5")" "$(wc -c <"$model")"
