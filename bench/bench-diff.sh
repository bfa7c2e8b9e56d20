#!/bin/sh
# Time and peak memory of `kerascope diff` (every statistic of every tensor)
# on a VGG16-sized legacy .h5 (553 MB, 138M parameters) against its retrained
# twin, in the same run as `h5diff` on the same pair (which only counts the
# differences) and `cat A B >/dev/null` (just reading both files). Files are
# in the page cache (one warm-up run each), so the numbers compare the
# programs, not the disk. Goals: diff at least 2x faster than h5diff, within
# 3x of cat, peak RSS under 64 MB.
#
# Usage: bench/bench-diff.sh [KERASCOPE] [DATADIR]
#   KERASCOPE  the binary (default: ./kerascope, else build-*/kerascope)
#   DATADIR    where the big files are (written by ../shared/bench/mkbig.py
#              when missing; default /tmp/ksbig; never inside the
#              repository). Needs /usr/bin/python3 with h5py and numpy,
#              h5diff (Debian package hdf5-tools) and GNU time (package time).
# RUNS=N sets the number of timed runs per case (default 5; median wall time,
# mean CPU time). The machine may be shared: CPU time (user + system) is the
# steadier number.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
ks=${1:-}
data=${2:-/tmp/ksbig}
runs=${RUNS:-5}
. "$top/bench/bench-lib.sh"
ks=$(bench_binary bench-diff "$ks") || exit 2
command -v h5diff >/dev/null || { echo "bench-diff: h5diff missing (apt-get install hdf5-tools)" >&2; exit 2; }
mkbig=${MKBIG:-$top/../shared/bench/mkbig.py}

mkdir -p "$data"
a=$data/vgg16.h5
b=$data/vgg16-retrained.h5
w=$data/vgg16-weights-only.h5
c=$data/vgg16-copy.h5
if [ ! -f "$a" ] || [ ! -f "$b" ] || [ ! -f "$w" ]; then
	echo "generating the VGG16 files in $data with $mkbig ..."
	/usr/bin/python3 "$mkbig" "$data" >/dev/null
fi
# h5diff recognises one file given twice and reads nothing: a copy makes it work
[ -f "$c" ] || cp "$a" "$c"

# label, expected exit status, command...
row() {
	label=$1 want=$2
	shift 2
	set +e
	"$@" >/dev/null 2>&1
	rc=$?
	set -e
	[ "$rc" -eq "$want" ] || { echo "bench-diff: '$*' exited $rc, not $want" >&2; exit 1; }
	printf "| %-48s | %8s | %8s | %7s |\n" "$label" "$(wall "$@")" "$(cpu "$@")" "$(rss "$@")"
}


echo "kerascope: $ks   runs per case: $runs   ($(nproc) CPUs, $(uname -r))"
echo "a: $a ($(du -m "$a" | cut -f1) MB)   b: $b ($(du -m "$b" | cut -f1) MB)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# warm the page cache
cat "$a" "$b" "$w" "$c" >/dev/null
echo
printf "| %-48s | %8s | %8s | %7s |\n" "case" "wall ms" "CPU ms" "RSS MB"
printf "|%s|%s|%s|%s|\n" "--------------------------------------------------" "----------" "----------" "---------"
row "cat A B >/dev/null" 0 sh -c 'cat "$1" "$2" >/dev/null' sh "$a" "$b"
row "kerascope diff A B (retrained twin)" 1 "$ks" diff "$a" "$b"
row "kerascope diff --json A B" 1 "$ks" diff --json "$a" "$b"
row "h5diff A B" 1 h5diff "$a" "$b"
row "kerascope diff A copy-of-A (identical)" 0 "$ks" diff "$a" "$c"
row "h5diff A copy-of-A" 0 h5diff "$a" "$c"
row "kerascope diff A weights-only twin" 0 "$ks" diff "$a" "$w"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$data/.times" "$data/.cpu"
