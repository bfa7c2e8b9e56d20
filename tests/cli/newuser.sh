#!/bin/sh
# The small things a new user tripped over (issue 12), from the shell:
# integers dump as integers with no histogram for one value; dump LAYER lists
# the layer's weights; "did you mean" for commands, weights and layers;
# predict elides long outputs (--max), shows only the top classes with --top,
# reports small times in microseconds, and has help like the other commands.
# Runs from `make check` (top_srcdir, abs_top_builddir exported).
LC_ALL=C
export LC_ALL
srcdir=$(cd "${top_srcdir:-.}" && pwd)
ks=${abs_top_builddir:-$srcdir}/kerascope
ex=$srcdir/examples
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ksnew.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
[ -x "$ks" ] || { echo "newuser: $ks is not built" >&2; exit 99; }

# run WANT_STATUS ARGS...: output in $tmp/out, stderr in $tmp/err
run() {
	want=$1
	shift
	(cd "$ex" && "$ks" "$@") >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: kerascope $* exited $got, not $want: $(cat "$tmp/err")"
		fail=$((fail + 1))
		return 1
	fi
	return 0
}
# has FILE PATTERN WHAT / hasnt FILE PATTERN WHAT
has() { if grep -q -- "$2" "$tmp/$1"; then pass=$((pass + 1)); else echo "FAIL: $3"; cat "$tmp/$1"; fail=$((fail + 1)); fi; }
hasnt() { if grep -q -- "$2" "$tmp/$1"; then echo "FAIL: $3"; cat "$tmp/$1"; fail=$((fail + 1)); else pass=$((pass + 1)); fi; }

# an int64 scalar: "600", no "600." and no histogram of one value
run 0 dump iris_mlp.h5 Adam/iter && {
	has out '^600$' "dump int64 scalar prints an integer"
	hasnt out 'Histogram' "no histogram for a scalar"
}
run 0 dump iris_mlp.h5 Adam/iter --json && has out '"values": 600$' "dump --json int64 scalar is an integer"

# dump LAYER: its weights, each as dump takes it
run 0 dump iris_mlp.h5 hidden && {
	has out '^hidden (Dense) is a layer' "dump LAYER says it is a layer"
	has out '^  hidden/kernel  *(4, 16)  *float32' "dump LAYER lists the kernel"
	has out '^  hidden/bias  *(16,)  *float32' "dump LAYER lists the bias"
}

# did you mean
run 2 sumary iris_mlp.h5 && has err "did you mean 'summary'" "mistyped command"
run 2 dump iris_mlp.h5 hiden/kernel && has err "did you mean 'hidden/kernel'" "mistyped weight"
run 2 dump iris_mlp.h5 outptu && has err "did you mean layer 'output'" "mistyped layer for dump"
run 2 predict iris_mlp.h5 --zeros --until hiden && has err "did you mean 'hidden'" "mistyped --until layer"
run 2 frobnicate iris_mlp.h5 && hasnt err "did you mean" "no suggestion for an unrelated word"

# predict: --max elides like dump; --top replaces the values
run 0 predict iris_mlp.h5 --random 1 --batch 400 --max 20 && {
	has out '^ \.\.\.,$' "predict --max elides rows"
	[ "$(grep -c '^ *\[' "$tmp/out")" -eq 6 ] && pass=$((pass + 1)) ||
		{ echo "FAIL: predict --max 20 should show 6 rows"; fail=$((fail + 1)); }
}
run 0 predict iris_mlp.h5 --input iris_sample.npy --top 1 --labels iris_labels.txt && {
	hasnt out '\[\[' "predict --top shows no value array"
	has out '^  sample 5  Iris-virginica (2)  *0\.959' "predict --top row"
}
# small times in microseconds (the iris MLP runs in well under a millisecond)
run 0 predict iris_mlp.h5 --input iris_sample.npy --repeat 20 &&
	has out "^[0-9.]* \(µs\|ms\) per inference (median of 20 runs" "predict --repeat unit"
# help like the other commands
run 0 predict --help && {
	has out '^Usage: kerascope predict FILE' "predict --help usage"
	has out '^  -h, --help  *show this help' "predict --help lists --help"
	[ "$(awk 'length > 80' "$tmp/out" | wc -l)" -eq 0 ] && pass=$((pass + 1)) ||
		{ echo "FAIL: predict --help has lines over 80 columns"; fail=$((fail + 1)); }
}

echo "newuser: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
