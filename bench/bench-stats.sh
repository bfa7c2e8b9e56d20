#!/bin/sh
# Weight statistics at the speed of the page cache (issue 14): time, CPU and
# peak memory of `kerascope dump --stats` on VGG16's 411 MB fc1/kernel (min,
# max, mean, std, zeros, NaN/Inf and a 10-bin histogram) and of
# `kerascope stats` over the whole 553 MB model (every tensor, per layer and
# in total), in the same run as `cat FILE >/dev/null` (just reading it) and
# h5py + numpy computing the same fc1 statistics. The file is in the page
# cache (one warm-up read), so the numbers compare programs, not the disk.
# Goals: dump --stats >= 1.4 GB/s, stats within 2x of cat, RSS < 64 MB.
#
# Usage: bench/bench-stats.sh [KERASCOPE] [DATADIR]
#   KERASCOPE  the binary (default: ./kerascope, else build-*/kerascope)
#   DATADIR    where vgg16.h5 is (written by ../shared/bench/mkbig.py when
#              missing; default /tmp/ksbig; never inside the repository).
#              Needs GNU time; the numpy row needs /usr/bin/python3 with h5py.
# RUNS=N sets the timed runs per case (default 7; median wall, mean CPU).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
ks=${1:-}
data=${2:-/tmp/ksbig}
runs=${RUNS:-7}
. "$top/bench/bench-lib.sh"
ks=$(bench_binary bench-stats "$ks") || exit 2
mkbig=${MKBIG:-$top/../shared/bench/mkbig.py}

mkdir -p "$data"
a=$data/vgg16.h5
if [ ! -f "$a" ]; then
	echo "generating $a with $mkbig ..."
	/usr/bin/python3 "$mkbig" "$data" >/dev/null
fi
bytes=$(stat -c %s "$a")
fc1_bytes=411041792  # 25088 x 4096 float32

row() { # label, bytes the case reads (for GB/s = 1e9 bytes/s), command...
	label=$1 size=$2
	shift 2
	"$@" >/dev/null 2>&1 || { echo "bench-stats: '$*' failed" >&2; exit 1; }
	w=$(wall "$@")
	gbs=-
	[ "$size" != - ] && gbs=$(awk -v s="$size" -v w="$w" 'BEGIN {printf "%.2f", s / w / 1e6}')
	printf "| %-44s | %8s | %8s | %7s | %6s |\n" "$label" "$w" "$(cpu "$@")" "$(rss "$@")" "$gbs"
}

echo "kerascope: $ks   runs per case: $runs   ($(nproc) CPUs, $(uname -r))"
echo "file: $a ($bytes bytes)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$a" >/dev/null
echo
printf "| %-44s | %8s | %8s | %7s | %6s |\n" "case" "wall ms" "CPU ms" "RSS MB" "GB/s"
printf "|%s|%s|%s|%s|%s|\n" "----------------------------------------------" "----------" "----------" "---------" "--------"
row "cat FILE >/dev/null" "$bytes" cat "$a"
row "kerascope stats FILE" "$bytes" "$ks" stats "$a"
row "kerascope stats --json FILE" "$bytes" "$ks" stats --json "$a"
row "kerascope dump FILE fc1/kernel --stats" "$fc1_bytes" "$ks" dump "$a" fc1/kernel --stats
if /usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null; then
	row "h5py + numpy, same fc1 statistics" "$fc1_bytes" /usr/bin/python3 -c '
import sys, h5py, numpy as np
x = h5py.File(sys.argv[1], "r")["model_weights/fc1/fc1/kernel:0"][...]
f = x[np.isfinite(x)]
print(f.min(), f.max(), f.mean(), f.std(), np.count_nonzero(x == 0),
      np.isnan(x).sum(), np.isinf(x).sum(), np.histogram(f, 10))' "$a"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$data/.times" "$data/.cpu"
