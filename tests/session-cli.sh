#!/bin/sh
# Sessions end to end on the shipped examples: predict --record, replay on
# the same file (exit 0), on the same weights saved as .keras (exit 0, "same
# weights"), on the untrained twin (exit 1, first diverging layer), --json
# fields, predict --expect, hostile session files (one line, exit 2), and a
# session file that replay never modifies (checksums before and after).
#
# Runs from `make check` (top_srcdir, abs_top_builddir exported).
LC_ALL=C
export LC_ALL
srcdir=$(cd "${top_srcdir:-.}" && pwd)
ks=${abs_top_builddir:-$srcdir}/kerascope
ex=$srcdir/examples
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kssession.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

if [ ! -x "$ks" ]; then
	echo "session-cli: $ks is not built" >&2
	exit 99
fi

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

run() {
	want=$1
	shift
	"$ks" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc (want $want): kerascope $*"; cat "$tmp/out" "$tmp/err"; fi
}

has() { grep -q -- "$1" "$tmp/out" && ok || { bad "$2: no '$1' in:"; cat "$tmp/out"; }; }

one_line_error() {
	if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^kerascope: " "$tmp/err" &&
	   grep -q -- "$1" "$tmp/err"; then ok; else bad "error for $2 is not one line with '$1':"; cat "$tmp/err"; fi
}

sum() { cksum <"$1"; }

s=$tmp/s.h5
run 0 predict "$ex/iris_mlp.h5" --input "$ex/iris_sample.csv" --record "$s" --record-activations \
	--labels "$ex/iris_labels.txt"
[ -s "$s" ] && ok || bad "--record wrote nothing"
before=$(sum "$s")

# the same file, the same weights in another format, another model
run 0 replay "$s"
has "same weights, same architecture" "replay on the recorded file"
has "tolerance: exact" "exact when the digest is the same"
has "result: same results" "replay verdict"
run 0 replay "$s" "$ex/iris_mlp.keras"
has "model: same weights" "replay on the .keras twin"
has "identical (18 values)" "6 samples x 3 classes compared"
run 1 replay "$s" "$ex/iris_mlp_untrained.h5"
has "different weights, same architecture" "untrained twin"
has "first diverging layer: hidden" "first divergence"
has "top-1 agreement" "top-1 for class scores"
has "result: different" "different verdict"
run 1 replay "$s" "$ex/iris_mlp_untrained.h5" --json
for k in '"same_inputs": true' '"same_weights": false' '"same_architecture": true' \
	'"first_divergence": "hidden"' '"identical": false' '"top1_agreement"' '"max_abs"' \
	'"max_rel"' '"permutation": null'; do
	has "$k" "replay --json"
done
run 0 replay "$s" "$ex/iris_mlp.keras" -d 0 --json
has '"identical": true' "replay --json on the twin"
# a tolerance loose enough accepts the untrained model
run 0 replay "$s" "$ex/iris_mlp_untrained.h5" -d 2
[ "$(sum "$s")" = "$before" ] && ok || bad "replay modified the session file"

# diff with two sessions, and with a session and a model
run 0 predict "$ex/iris_mlp_untrained.h5" --input "$ex/iris_sample.csv" --record "$tmp/u.h5"
run 1 diff "$s" "$tmp/u.h5"
has "different weights, same architecture" "diff S1 S2"
has "inputs: the same 6 samples" "diff S1 S2 inputs"
run 0 predict "$ex/iris_mlp.keras" --input '[[5.1, 3.5, 1.4, 0.2], [1, 2, 3, 4]]' --record "$tmp/k.h5"
run 0 diff "$s" "$tmp/k.h5"
has "inputs: 1 shared sample compared (6 recorded, 2 in the other)" "diff on partly shared inputs"
has "same results on the shared samples" "diff verdict on shared samples"
run 0 diff "$s" "$ex/iris_mlp.keras"
has "model: same weights" "diff SESSION MODEL is replay"
run 1 diff "$ex/iris_mlp_untrained.h5" "$s"
has "first diverging layer: hidden" "diff MODEL SESSION is replay too"

# the file says what it is
run 0 summary "$s"
has "kerascope session: 1 input, 1 output, 6 samples, with activations, recorded from iris_mlp.h5" "summary"
run 0 ls "$s"
has "inputs/" "ls shows the tree"

# never over an existing file, never without --record
run 2 predict "$ex/iris_mlp.h5" --input "$ex/iris_sample.csv" --record "$s"
one_line_error "already exists" "--record over an existing file"
[ "$(sum "$s")" = "$before" ] && ok || bad "predict --record touched an existing file"
run 2 predict "$ex/iris_mlp.h5" --input "$ex/iris_sample.csv" --record "$ex/iris_mlp_untrained.h5"
one_line_error "already exists" "--record over a model file"

# --expect: the shipped reference outputs
run 0 predict "$ex/iris_mlp.h5" --input "$ex/iris_sample.npy" --expect "$ex/iris_sample_expected.npy"
has "result: same results" "--expect agrees"
run 1 predict "$ex/iris_mlp_untrained.h5" --input "$ex/iris_sample.npy" --expect "$ex/iris_sample_expected.npy"
has "result: different" "--expect differs"
run 1 predict "$ex/iris_mlp_untrained.h5" --input "$ex/iris_sample.npy" \
	--expect "$ex/iris_sample_expected.npy" --json
has '"expect": {' "--expect in the JSON document"
run 1 predict "$ex/iris_mlp.h5" --input "$ex/iris_sample.npy" --expect "$ex/iris_sample.npy"
has "shape (6, 4) recorded, (6, 3) now" "--expect of another shape is a difference"
run 2 predict "$ex/iris_mlp.h5" --input "$ex/iris_sample.npy" --expect "$ex/iris_sample.npy" \
	--expect "$ex/iris_sample.npy"
one_line_error "1 output but 2 --expect files were given" "--expect count"

# hostile sessions: one line, exit 2
cp "$s" "$tmp/trunc.h5"
size=$(wc -c <"$s")
head -c $((size / 2)) "$s" >"$tmp/trunc.h5"
run 2 replay "$tmp/trunc.h5" "$ex/iris_mlp.h5"
one_line_error "trunc.h5" "truncated session"
run 2 replay "$ex/iris_mlp.h5"
one_line_error "not a kerascope session" "a model given as session"
run 2 replay "$tmp/none.h5"
one_line_error "none.h5" "missing session"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
	# inputs with 5 features for a model that takes 4; a session with no inputs
	/usr/bin/python3 - "$tmp" <<'EOF'
import sys, h5py, numpy as np
d = sys.argv[1]
with h5py.File(d + "/wide.h5", "w-") as f:
    f.attrs["kerascope_session"] = 1
    f["inputs/0"] = np.zeros((2, 5), "f4")
    f["outputs/0"] = np.zeros((2, 3), "f4")
with h5py.File(d + "/noin.h5", "w-") as f:
    f.attrs["kerascope_session"] = 1
    f["outputs/0"] = np.zeros((2, 3), "f4")
with h5py.File(d + "/huge.h5", "w-") as f:
    f.attrs["kerascope_session"] = 1
    f.create_dataset("inputs/0", shape=(1 << 30, 4), dtype="f4", chunks=(1, 4))
    f["outputs/0"] = np.zeros((1, 3), "f4")
EOF
	run 2 replay "$tmp/wide.h5" "$ex/iris_mlp.h5"
	one_line_error "expected shape (None, 4) but got (2, 5)" "inputs contradicting the model"
	run 2 replay "$tmp/noin.h5" "$ex/iris_mlp.h5"
	one_line_error "records no inputs" "session without inputs"
	run 2 replay "$tmp/wide.h5"
	one_line_error "names no model file" "no model recorded, none given"
	run 2 replay "$tmp/huge.h5" "$ex/iris_mlp.h5"
	one_line_error "more than the" "absurd sizes"
else
	bad "python3-h5py is missing (tools/install-deps installs it)"
fi

# usage
run 0 replay --help
has "Usage: kerascope replay" "replay --help"
run 2 replay
one_line_error "expected SESSION" "replay without arguments"
run 2 replay "$s" -d x
one_line_error "non-negative number" "bad -d"

echo "session-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
