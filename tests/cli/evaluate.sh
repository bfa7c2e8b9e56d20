#!/bin/sh
# evaluate from the command line:
#  - on examples/iris.csv it gives exactly the training accuracy (and loss)
#    that tools/mkexample.py reports (examples/iris_train_metrics.json), for
#    the legacy .h5 and the Keras 3 .keras twin;
#  - every command of the README's "Evaluating with labels" section prints
#    what the README shows (the walk-through is run, not just read);
#  - bad input: exit 2 and one line on stderr.
# Runs from `make check` (top_srcdir, abs_top_builddir exported) or by hand:
# top_srcdir=. abs_top_builddir=build tests/cli/evaluate.sh
LC_ALL=C
export LC_ALL
srcdir=$(cd "${top_srcdir:-.}" && pwd)
bindir=${abs_top_builddir:-$srcdir}
ks=$bindir/kerascope
ex=$srcdir/examples
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kseval.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { echo "FAIL $*"; fail=$((fail + 1)); }

if [ ! -x "$ks" ]; then
	echo "evaluate: $ks is not built" >&2
	exit 99
fi

# json_num FILE KEY: the first number after "KEY": in FILE
json_num() {
	sed -n "s/.*\"$2\": *\\([-0-9.eE+]*\\).*/\\1/p" "$1" | head -1
}

# ---- the training accuracy ----
m=$ex/iris_train_metrics.json
want_correct=$(json_num "$m" correct)
want_n=$(json_num "$m" samples)
want_loss=$(json_num "$m" loss)
for model in iris_mlp.h5 iris_mlp.keras; do
	(cd "$ex" && "$ks" evaluate "$model" --input iris.csv --labels-from species --labels iris_labels.txt \
		--json) >"$tmp/out.json" 2>"$tmp/err" || { ko "$model: exit $?: $(cat "$tmp/err")"; continue; }
	hits=$(tr -d ' \n' <"$tmp/out.json" | sed -n 's/.*"hits":{"sparse_categorical":\[\([0-9]*\),\([0-9]*\)\].*/\1 \2/p')
	n=$(json_num "$tmp/out.json" n)
	if [ "$hits" = "$want_correct $want_n" ] && [ "$n" = "$want_n" ]; then ok; else
		ko "$model: sparse_categorical hits '$hits', n '$n'; mkexample reports $want_correct of $want_n"; fi
	# the loss: tools/mkexample.py computes it in float64 from the float32 weights
	loss=$(tr -d ' \n' <"$tmp/out.json" | sed -n 's/.*"loss":{[^}]*"value":\([-0-9.eE+]*\).*/\1/p')
	if awk -v a="$loss" -v b="$want_loss" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d < 1e-5) }'
	then ok; else ko "$model: loss '$loss', mkexample reports $want_loss (tolerance 1e-5)"; fi
done
# batches that do not divide the set (150 = 21 x 7 + 3): the same counts and loss
(cd "$ex" && "$ks" evaluate iris_mlp.h5 --input iris.csv --labels-from species --labels iris_labels.txt \
	--batch 7) >"$tmp/b7" 2>&1
(cd "$ex" && "$ks" evaluate iris_mlp.h5 --input iris.csv --labels-from species --labels iris_labels.txt) \
	>"$tmp/b256" 2>&1
if diff -u "$tmp/b256" "$tmp/b7"; then ok; else ko "--batch 7 differs from one batch"; fi
(cd "$ex" && "$ks" evaluate iris_mlp.h5 --input iris_x.npy --labels-from iris_y_onehot.npy --batch 7) >"$tmp/n7" 2>&1
grep -q 'categorical          0.9800  (147 of 150)' "$tmp/n7" && ok || ko "--batch 7 with .npy inputs: $(cat "$tmp/n7")"
# the resolution the file's "accuracy" gets with integer labels (tf.keras 2.10: by shapes)
grep -q '"accuracy_resolves_to": "sparse_categorical"' "$tmp/out.json" && ok || ko "accuracy_resolves_to"

# ---- the README walk-through ----
# Each "    $ CMD" line of the section, then its indented output up to a blank line.
sed -n '/^Evaluating with labels$/,/^The example model$/p' "$srcdir/README" >"$tmp/section"
n_cmds=0
awk -v dir="$tmp" '
	/^    \$ / { if (f) close(f); n++; f = dir "/want" n; c = dir "/cmd" n;
	           print substr($0, 7) > c; close(c); printf "" > f; next }
	f && /^    / { print substr($0, 5) > f; next }
	f && /^$/ { close(f); f = "" }' "$tmp/section"
for c in "$tmp"/cmd*; do
	[ -f "$c" ] || continue
	n_cmds=$((n_cmds + 1))
	i=${c##*cmd}
	(cd "$ex" && PATH="$bindir:$PATH" sh -c "$(cat "$c")") >"$tmp/got$i" 2>&1
	if diff -u "$tmp/want$i" "$tmp/got$i"; then ok; else ko "README: $(cat "$c")"; fi
done
[ "$n_cmds" -ge 2 ] && ok || ko "README: found $n_cmds commands in 'Evaluating with labels'"

# ---- errors: exit 2, one line naming the problem ----
# err NAME PATTERN ARGS...
err() {
	name=$1 pat=$2
	shift 2
	(cd "$ex" && "$ks" "$@") >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	lines=$(wc -l <"$tmp/stderr")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$pat" "$tmp/stderr" && [ ! -s "$tmp/stdout" ]; then
		ok
	else
		ko "$name: exit $rc, $lines stderr lines: $(cat "$tmp/stderr")"
	fi
}
err no-labels 'needs --input X and --labels-from' evaluate iris_mlp.h5 --input iris.csv
err no-column "no column 'kind'" evaluate iris_mlp.h5 --input iris.csv --labels-from kind --labels iris_labels.txt
err names-needed 'give --labels NAMES.txt' evaluate iris_mlp.h5 --input iris.csv --labels-from species
err bad-index 'column 9 does not exist' evaluate iris_mlp.h5 --input iris.csv --labels-from 9 --labels iris_labels.txt
err short-labels 'do not match 150 samples' evaluate iris_mlp.h5 --input iris_x.npy --labels-from iris_sample_expected.npy
err wide-labels 'do not fit an output of 3 classes' evaluate iris_mlp.h5 --input iris_x.npy --labels-from iris_x.npy
err bad-ids 'not a class id in 0..2' evaluate iris_mlp.h5 --input iris_x.npy --labels-from "[$(seq -s, 1 150 | sed 's/[0-9]*/7/g')]"
err h5-group "no dataset '/model_weights'" predict iris_mlp.h5 --input iris_mlp.h5:/model_weights
err h5-bare 'name the dataset' predict iris_mlp.h5 --input iris_mlp.h5
err h5-shape 'expected shape (None, 4)' predict iris_mlp.h5 --input iris_mlp.h5:/model_weights/hidden/hidden/bias:0
printf 'a,b,label\n1,2,0\n3,\0004,1\n' >"$tmp/nul.csv"
err nul-csv 'neither a .npy file nor text' evaluate iris_mlp.h5 --input "$tmp/nul.csv" --labels-from label
printf 'a,b,c,d,label\n1,2,3,4,0\n1,2,x,4,1\n' >"$tmp/word.csv"
err word-csv "line 3: 'x' is not a number" evaluate iris_mlp.h5 --input "$tmp/word.csv" --labels-from label
printf 'a,b,c,d,label\n1,2,3,4,0\n1,2,3,1\n' >"$tmp/ragged.csv"
err ragged-csv 'line 3 has 4 values but earlier rows have 5' evaluate iris_mlp.h5 --input "$tmp/ragged.csv" --labels-from label
printf 'a,b,c,label\n1,2,3,0\n' >"$tmp/narrow.csv"
err narrow-csv 'expected shape (None, 4) but got (1, 3)' evaluate iris_mlp.h5 --input "$tmp/narrow.csv" --labels-from label
printf 'a,b,c,d,label\n' >"$tmp/header-only.csv"
err header-only 'no data rows' evaluate iris_mlp.h5 --input "$tmp/header-only.csv" --labels-from label
err bad-topk '--top-k needs a positive number' evaluate iris_mlp.h5 --input iris.csv --labels-from species --top-k 0
# an HDF5 dataset as input works (the hidden kernel as four samples of 16: shape checked, then run)
(cd "$ex" && "$ks" evaluate iris_mlp.h5 --input iris_mlp.h5:/optimizer_weights/Adam/hidden/kernel/m:0 \
	--labels-from '[0, 1, 2, 0]') >"$tmp/out" 2>&1
grep -q "expected shape (None, 4) but got (4, 16)" "$tmp/out" && ok || ko "h5 input shape check: $(cat "$tmp/out")"
"$ks" evaluate --help | grep -q -- '--labels-from' && ok || ko "evaluate --help"
# class names from files reach the terminal escaped (ks_esc)
printf 'Iris-setosa\n\033[2Jevil\nIris-virginica\n' >"$tmp/evil.txt"
sed 's/Iris-versicolor/\x1b[2Jevil/' "$ex/iris.csv" >"$tmp/evil.csv"
(cd "$ex" && "$ks" evaluate iris_mlp.h5 --input "$tmp/evil.csv" --labels-from species --labels "$tmp/evil.txt") \
	>"$tmp/evil.out" 2>&1
if grep -q '\\e\[2Jevil  *0\.9600' "$tmp/evil.out" && ! grep -q "$(printf '\033')" "$tmp/evil.out"; then ok; else
	ko "escape in class names: $(cat "$tmp/evil.out")"; fi

echo "evaluate: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
