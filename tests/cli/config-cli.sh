#!/bin/sh
# --config on every command, for every weights-only file of the shared
# conformance suite, in both forms a user has: the full model file
# (--config model.h5; model.keras for model.weights.h5) and the architecture
# JSON that `kerascope config` writes from it. Checked: exit 0 and an empty
# stderr; both forms print the same for summary, ls, attrs and dump; predict
# writes byte-identical outputs in both forms, equal to the full model's own
# (same weights, same float32 computation) except where the case is about
# the load order (pitfall_layer_order: test_conformance checks its numbers).
# Then hostile --config values: one line "kerascope: ...", exit 2.
#
# Runs from `make check` (abs_top_builddir, KERASCOPE_FIXTURES exported).
LC_ALL=C
export LC_ALL
ks=${abs_top_builddir:-.}/kerascope
fx=${KERASCOPE_FIXTURES:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ksconfig.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

if [ ! -x "$ks" ]; then
	echo "config-cli: $ks is not built" >&2
	exit 99
fi
if [ -z "$fx" ] || [ ! -d "$fx/conformance" ]; then
	echo "config-cli: KERASCOPE_FIXTURES is not set or has no conformance/ (needed)" >&2
	exit 1
fi

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# run OUT ARGS...: kerascope ARGS > OUT; must exit 0 with nothing on stderr.
run() {
	out=$1
	shift
	"$ks" "$@" >"$out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
		bad "exit $rc: kerascope $*"
		cat "$tmp/err"
		return 1
	fi
	ok
}

same() {
	if cmp -s "$1" "$2"; then ok; else bad "$3"; diff "$1" "$2" | head -5; fi
}

# One weights file, its full-model twin, and the first weight ls lists.
check_case() {
	dir=$1 w=$2 full=$3 tag=$4
	run "$tmp/arch.json" config "$dir/$full" || return
	inputs=""
	for i in "$dir"/input_*.npy; do inputs="$inputs --input $i"; done
	for form in full json; do
		if [ $form = full ]; then cfg=$dir/$full; else cfg=$tmp/arch.json; fi
		for cmd in summary ls attrs; do
			run "$tmp/$cmd.$form" $cmd "$dir/$w" --config "$cfg"
		done
		# the first weight of the first layer that has one: "layer/weight"
		spec=$("$ks" ls "$dir/$w" --config "$cfg" |
			awk '/ params$/ && !l {l = $1; next} l {print l "/" $1; exit}')
		: >"$tmp/dump.$form"
		[ -n "$spec" ] && run "$tmp/dump.$form" dump "$dir/$w" "$spec" --config "$cfg" --stats
		# shellcheck disable=SC2086
		run "$tmp/predict.$form" predict "$dir/$w" --config "$cfg" $inputs -o "$tmp/out_$form.npy"
	done
	for cmd in summary ls attrs dump; do
		same "$tmp/$cmd.full" "$tmp/$cmd.json" "$tag: $cmd differs between --config $full and its JSON"
	done
	same "$tmp/out_full.npy" "$tmp/out_json.npy" "$tag: predict differs between the two --config forms"
	case $tag in pitfall_layer_order*) return ;; esac
	# shellcheck disable=SC2086
	run "$tmp/predict.own" predict "$dir/$full" $inputs -o "$tmp/out_own.npy"
	same "$tmp/out_own.npy" "$tmp/out_full.npy" "$tag: weights + --config computes other values than $full"
}

n=0
for dir in "$fx"/conformance/*/; do
	dir=${dir%/}
	name=$(basename "$dir")
	[ -f "$dir/case.json" ] || continue
	# Lambda and custom layers cannot run: their cases are about refusing.
	case $name in pitfall_lambda|pitfall_custom_layer) continue ;; esac
	if [ -f "$dir/weights.h5" ] && [ -f "$dir/model.h5" ]; then
		check_case "$dir" weights.h5 model.h5 "$name"
		n=$((n + 1))
	fi
	if [ -f "$dir/model.weights.h5" ] && [ -f "$dir/model.keras" ]; then
		check_case "$dir" model.weights.h5 model.keras "$name (keras3)"
		n=$((n + 1))
	fi
done
[ "$n" -gt 40 ] || bad "only $n weights files found in $fx/conformance"

# Hostile --config: one line naming the problem, exit 2, for every command.
w=$fx/conformance/mlp_relu_softmax/weights.h5
printf 'not json at all' >"$tmp/text.json"
printf '[{"class_name": "Dense"}]' >"$tmp/list.json"
printf '"just a string"' >"$tmp/string.json"
mkfifo "$tmp/fifo"
dd if=/dev/zero of="$tmp/huge.json" bs=1 count=0 seek=300M 2>/dev/null
hostile() {
	src=$1 what=$2
	for cmd in summary ls attrs predict; do
		extra=""
		[ $cmd = predict ] && extra=--zeros
		# shellcheck disable=SC2086
		timeout 10 "$ks" $cmd "$w" --config "$src" $extra >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ "$rc" -ne 2 ]; then
			bad "$cmd --config $src: exit $rc (want 2)"
		elif [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^kerascope: .*$what" "$tmp/err"; then
			bad "$cmd --config $src: not one line saying '$what':"
			cat "$tmp/err"
		else
			ok
		fi
	done
}
hostile "$tmp/text.json" "not valid JSON"
hostile "$tmp/list.json" "not a Keras model architecture (a JSON array"
hostile "$tmp/string.json" "not valid JSON"
hostile "$tmp/fifo" "not a regular file"
hostile "$tmp/huge.json" "too large for a model architecture"
hostile "$tmp/nothing.json" "No such file"
hostile "$w" "holds no model architecture (a weights-only file)"
timeout 10 "$ks" summary "$w" --load-order sideways >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "^kerascope: summary: --load-order takes by-name or topological" "$tmp/err"; then
	ok
else
	bad "a bad --load-order is not refused"
fi

# predict --json says how the weights were loaded.
p=$fx/conformance/pitfall_layer_order
"$ks" predict "$p/weights_a_reordered.h5" --config "$p/model_a.h5" --zeros --json >"$tmp/out" 2>"$tmp/err"
if grep -q '"used": "topological"' "$tmp/out" && grep -q '"keras_default": "topological"' "$tmp/out" &&
	grep -q '"n_differ": 2' "$tmp/out" && [ "$(wc -l <"$tmp/err")" -eq 1 ]; then
	ok
else
	bad "predict --json lacks the load order (or stderr is not one line)"
	cat "$tmp/err"
fi

echo "config-cli: $pass passed, $fail failed ($n weights files)"
[ "$fail" -eq 0 ]
