#!/bin/sh
# `kerascope predict` end to end on the shared conformance fixtures: exit
# statuses, one-line "kerascope: FILE: problem" errors, output files (-o with
# one and several outputs), --save-activations, --trace, --json fields,
# --top/--labels, --until, --profile's table, and run-to-run determinism. The numbers themselves
# are checked against the reference outputs by test_conformance.
#
# Runs from `make check` (abs_top_builddir, KERASCOPE_FIXTURES exported).
LC_ALL=C
export LC_ALL
ks=${abs_top_builddir:-.}/kerascope
fx=${KERASCOPE_FIXTURES:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kspredict.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

if [ ! -x "$ks" ]; then
	echo "predict-cli: $ks is not built" >&2
	exit 99
fi
if [ -z "$fx" ] || [ ! -d "$fx/conformance" ]; then
	echo "predict-cli: KERASCOPE_FIXTURES is not set or has no conformance/ (needed)" >&2
	exit 1
fi
c=$fx/conformance

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# run EXPECTED_RC ARGS...: runs kerascope, keeps stdout/stderr, checks the status.
run() {
	want=$1
	shift
	"$ks" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc (want $want): kerascope $*"; cat "$tmp/err"; fi
}

# an error is exactly one line starting "kerascope: "
one_line_error() {
	if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^kerascope: " "$tmp/err" &&
	   grep -q -- "$1" "$tmp/err"; then ok; else bad "error for $2 is not one line with '$1':"; cat "$tmp/err"; fi
}

m=$c/dense_relu/model.h5
x=$c/dense_relu/input_0.npy

run 0 predict "$m" --input "$x" -o "$tmp/y.npy"
[ -s "$tmp/y.npy" ] && ok || bad "-o did not write y.npy"
grep -q "^output 0: dense (3, 5) -> $tmp/y.npy" "$tmp/out" && ok || bad "text output with -o names the file"
grep -q "\[" "$tmp/out" && bad "values printed although -o was given" || ok
run 0 predict "$m" --input "$x"
grep -q "^output 0: dense (3, 5)$" "$tmp/out" && [ "$(wc -l <"$tmp/out")" -eq 4 ] && ok || bad "text output: header and 3 rows"
run 0 predict "$m" --input "$x" -o "$tmp/y2.npy"
cmp -s "$tmp/y.npy" "$tmp/y2.npy" && ok || bad "two runs differ"
# the batch axis may be left out of a literal
run 0 predict "$m" --input '[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]'
grep -q "^output 0: dense (1, 5)" "$tmp/out" && ok || bad "literal without batch axis"

# several outputs: OUT_0.npy, OUT_1.npy
mo=$c/multi_input_multi_output
run 0 predict "$mo/model.h5" --input "$mo/input_0.npy" --input "$mo/input_1.npy" -o "$tmp/mo.npy"
[ -s "$tmp/mo_0.npy" ] && [ -s "$tmp/mo_1.npy" ] && [ ! -e "$tmp/mo.npy" ] && ok || bad "multi-output file names"

# trace, activations, json, top-k with labels, repeat
run 0 predict "$m" --random 7 --batch 2 --trace --save-activations "$tmp/acts"
[ "$(ls "$tmp/acts" | wc -l)" -eq 2 ] && ok || bad "--save-activations wrote $(ls "$tmp/acts" | wc -l) files"
grep -q "InputLayer" "$tmp/out" && grep -q "Dense" "$tmp/out" && ok || bad "--trace table"
printf 'a\nb\nc\nd\ne\n' >"$tmp/labels"
run 0 predict "$m" --input "$x" --top 2 --labels "$tmp/labels" --json --repeat 3 --trace
for key in '"ms_per_inference"' '"top"' '"label"' '"trace"' '"repeat": 3' '"values"'; do
	grep -q "$key" "$tmp/out" && ok || bad "--json lacks $key"
done
run 0 predict "$m" --zeros --top 3
grep -q "^  sample 0  [0-9]*: [0-9]" "$tmp/out" && ok || bad "--top text"

# --profile: one aligned row per step (as --trace lists them) and a total
# row whose MFLOP is the rows' sum; the outputs are those of a plain run.
cs=$c/cnn_small
run 0 predict "$cs/model.h5" --input "$cs/input_0.npy" --profile --repeat 2 -o "$tmp/p1.npy"
sed -n '/^profile: best of 2 runs per layer, 1 thread;/,/^ *total /p' "$tmp/out" | sed '1d' >"$tmp/prof"
head -1 "$tmp/prof" | grep -q '^ *# *layer *class *ms *cpu ms *% *MFLOP *GFLOP/s *MB$' && ok || bad "--profile header"
run 0 predict "$cs/model.h5" --input "$cs/input_0.npy" --trace
steps=$(sed -n '2,/^$/p' "$tmp/out" | grep -c '^[0-9]')
[ "$(grep -c '^ *[0-9][0-9]*  ' "$tmp/prof")" -eq "$steps" ] && [ "$steps" -gt 3 ] && ok || bad "--profile rows != $steps steps"
grep -q '^ *total ' "$tmp/prof" && ok || bad "--profile total row"
[ "$(awk '{ print length($0) }' "$tmp/prof" | sort -u | wc -l)" -eq 1 ] && ok || bad "--profile table not aligned"
awk '/^ *[0-9]+  / && $7 != "-" { s += $7; n++ } /^ *total / { t = $5 } END { exit !(n >= 2 && (s - t < 0.002 && t - s < 0.002)) }' \
	"$tmp/prof" && ok || bad "--profile total MFLOP is not the sum of the rows"
grep '  Conv2D  ' "$tmp/prof" | awk '$7 == "-" || $7 <= 0 { bad = 1 } END { exit bad || NR == 0 }' && ok || bad "--profile conv rows without FLOPs"
run 0 predict "$cs/model.h5" --input "$cs/input_0.npy" -o "$tmp/p0.npy"
cmp -s "$tmp/p0.npy" "$tmp/p1.npy" && ok || bad "--profile changes the outputs"
run 0 predict "$cs/model.h5" --input "$cs/input_0.npy" --profile --json
for key in '"profile"' '"steps"' '"cpu_ms"' '"flops"' '"gflops_per_s"' '"bytes"' '"total"'; do
	grep -q "$key" "$tmp/out" && ok || bad "--profile --json lacks $key"
done

# until: stop at a layer
run 0 predict "$c/mlp_relu_softmax/model.h5" --input "$c/mlp_relu_softmax/input_0.npy" --until dense
grep -q "^output 0: dense " "$tmp/out" && ok || bad "--until output name"

# errors: one line, naming the file and the problem
run 2 predict "$m" --input '[[1, 2, 3]]'
one_line_error "expected shape (None, 6) but got (1, 3)" "shape mismatch"
run 2 predict "$m" --input '[[1, 2], [3]]'
one_line_error "ragged" "ragged literal"
run 2 predict "$m"
one_line_error "no input" "missing input"
run 2 predict "$m" --input "$x" --input "$x"
one_line_error "takes 1 input" "too many inputs"
run 2 predict "$m" --zeros --until no_such_layer
one_line_error "no_such_layer" "bad --until"
run 2 predict "$c/pitfall_lambda/model.h5" --input "$c/pitfall_lambda/input_0.npy"
one_line_error "lambda (Lambda) blocks prediction" "Lambda refusal"
run 2 predict "$c/pitfall_custom_layer/model.h5" --zeros
one_line_error "ScaledTanh" "custom layer refusal"
run 2 predict "$tmp/missing.h5" --zeros
one_line_error "missing.h5" "missing model"
printf 'not a model' >"$tmp/junk.h5"
run 2 predict "$tmp/junk.h5" --zeros
one_line_error "junk.h5" "junk model"
printf '\223NUMPY\001\000\377\377' >"$tmp/trunc.npy"
run 2 predict "$m" --input "$tmp/trunc.npy"
one_line_error "trunc.npy" "truncated npy"
run 2 predict "$c/embedding/model.h5" --input '[[1, 2, 3, 4, 500]]'
one_line_error "input_dim 10" "Embedding id out of range"
run 0 predict "$c/embedding/model.keras" --random 5 --batch 4
grep -q "^output 0: dense (4, 2)" "$tmp/out" && ok || bad "--random ids for an Embedding input"
grep -q "nan" "$tmp/out" && bad "--random ids fell outside the vocabulary" || ok
run 2 predict "$m" --zeros --repeat 0
one_line_error "--repeat" "bad --repeat"
run 2 predict "$c/dense_relu/weights.h5" --zeros
one_line_error "config" "weights-only without --config"
# weights-only with the architecture taken from the full model file
run 0 predict "$c/dense_relu/weights.h5" --config "$m" --input "$x" -o "$tmp/w.npy"
cmp -s "$tmp/y.npy" "$tmp/w.npy" && ok || bad "weights.h5 + --config model.h5 differs from model.h5"

echo "predict-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
