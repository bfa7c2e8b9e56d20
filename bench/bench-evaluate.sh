#!/bin/sh
# Time and peak memory of `kerascope evaluate` on a big labelled CSV: the
# iris set repeated N times (default 2000: 300,000 rows, 9 MB), so that memory
# growth with the set's size shows. Predictions are scored batch by batch and
# never kept; the features and labels are held as float32 (16 and 4 bytes a
# row for iris) besides the text. Results: bench/README.
#
# Usage: bench/bench-evaluate.sh [KERASCOPE] [N]   (GNU time needed)
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
ks=${1:-}
n=${2:-2000}
if [ -z "$ks" ]; then
	for c in ./kerascope "$top"/build-*/kerascope; do
		[ -x "$c" ] && { ks=$c; break; }
	done
fi
[ -x "$ks" ] || { echo "bench-evaluate: no kerascope binary (give its path)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-evaluate: GNU time missing (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ksbenchev.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ex=$top/examples
{
	head -n 1 "$ex/iris.csv"
	i=0
	while [ "$i" -lt "$n" ]; do
		tail -n +2 "$ex/iris.csv"
		i=$((i + 1))
	done
} >"$tmp/big.csv"
echo "rows: $(($(wc -l <"$tmp/big.csv") - 1)), bytes: $(wc -c <"$tmp/big.csv")"
for batch in 256 4096; do
	/usr/bin/time -f "batch $batch: %e s wall, %U s user, %M KB peak RSS" "$ks" evaluate "$ex/iris_mlp.h5" \
		--input "$tmp/big.csv" --labels-from species --labels "$ex/iris_labels.txt" --batch "$batch" \
		>"$tmp/out"
	grep '^accuracy' "$tmp/out"
done
