#!/bin/sh
# Time and peak memory of opening a model: `kerascope summary` on a VGG16-sized
# legacy .h5 (553 MB, 138M parameters) and on a ~1 MB model, against `h5ls -r`
# and `kerascope --version` (process start-up alone). Targets: summary under
# 50 ms and 30 MB peak RSS on the big file. Results: bench/OPEN.md.
#
# Usage: bench/bench-open.sh [KERASCOPE] [DATADIR]
#   KERASCOPE  the binary (default: ./kerascope, else build-*/kerascope)
#   DATADIR    where the big files are written (default /tmp/ksbig; never
#              inside the repository). Needs /usr/bin/python3 with h5py and
#              numpy, and GNU time (Debian package `time`).
# RUNS=N sets the number of timed runs per case (default 21; median shown).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
ks=${1:-}
data=${2:-/tmp/ksbig}
runs=${RUNS:-21}
. "$top/bench/bench-lib.sh"
ks=$(bench_binary bench-open "$ks") || exit 2
mkbig=${MKBIG:-$top/../shared/bench/mkbig.py}

mkdir -p "$data"
if [ ! -f "$data/vgg16.h5" ]; then
	echo "generating $data/vgg16.h5 (553 MB) with $mkbig ..."
	/usr/bin/python3 "$mkbig" "$data" >/dev/null
fi
if [ ! -f "$data/mlp1mb.h5" ]; then
	# 784-300-100-10 MLP (266,610 parameters, ~1 MB) in the tf.keras layout.
	/usr/bin/python3 - "$data/mlp1mb.h5" <<'EOF'
import json, sys
import h5py, numpy as np
sizes = [784, 300, 100, 10]
layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, 784],
           "dtype": "float32", "name": "in"}}]
names = []
for i in range(3):
    names.append("dense_%d" % i)
    layers.append({"class_name": "Dense", "config": {"name": names[-1], "units": sizes[i + 1],
                   "activation": "relu" if i < 2 else "softmax", "use_bias": True}})
rng = np.random.default_rng(1)
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["keras_version"] = "2.13.1"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = json.dumps({"class_name": "Sequential",
        "config": {"name": "mlp", "layers": layers}}).encode()
    mw = f.create_group("model_weights")
    mw.attrs["layer_names"] = np.array([n.encode() for n in names], dtype=h5py.string_dtype("ascii"))
    for i, n in enumerate(names):
        g = mw.create_group(n)
        wn = [n + "/kernel:0", n + "/bias:0"]
        g.attrs["weight_names"] = np.array([w.encode() for w in wn], dtype=h5py.string_dtype("ascii"))
        g.create_dataset(wn[0], data=rng.standard_normal((sizes[i], sizes[i + 1]), dtype=np.float32))
        g.create_dataset(wn[1], data=np.zeros(sizes[i + 1], np.float32))
EOF
fi

row() { # label, command...
	label=$1
	shift
	"$@" >/dev/null 2>&1 || { echo "bench-open: '$*' failed" >&2; exit 1; }
	printf "| %-40s | %8s | %8s | %8s |\n" "$label" "$(wall "$@")" "$(cpu "$@")" "$(rss "$@")"
}

big=$data/vgg16.h5
small=$data/mlp1mb.h5
echo "kerascope: $ks   runs per case: $runs   ($(nproc) CPUs, $(uname -r))"
echo "big:   $big ($(du -m "$big" | cut -f1) MB)   small: $small ($(du -k "$small" | cut -f1) KB)"
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf "| %-40s | %8s | %8s | %8s |\n" "case" "wall ms" "CPU ms" "RSS MB"
printf "|%s|%s|%s|%s|\n" "------------------------------------------" "----------" "----------" "----------"
row "kerascope --version (start-up only)" "$ks" --version
row "kerascope summary VGG16 .h5 (553 MB)" "$ks" summary "$big"
row "kerascope summary --json VGG16" "$ks" summary --json "$big"
row "kerascope ls VGG16" "$ks" ls "$big"
row "kerascope attrs VGG16" "$ks" attrs "$big"
row "kerascope summary 1 MB MLP" "$ks" summary "$small"
row "h5ls -r VGG16" h5ls -r "$big"
row "h5ls -r 1 MB MLP" h5ls -r "$small"
row "kerascope dump VGG16 fc1/kernel --stats" "$ks" dump "$big" fc1/kernel --stats
rm -f "$data/.times" "$data/.cpu"
