#!/bin/sh
# Golden tests of the report commands: runs the built kerascope on the shipped
# examples and on shared fixtures and compares stdout, stderr and the exit
# status with tests/expected/NAME.txt (diff -u). A missing expected file is a
# failure, never created here. Each expected file was checked by hand against
# h5py/numpy readings of the same files (see tests/expected/README).
#
# Runs from `make check` (top_srcdir, abs_top_builddir, KERASCOPE_FIXTURES
# exported) or by hand: top_srcdir=. abs_top_builddir=build tests/cli/golden.sh
LC_ALL=C
export LC_ALL
srcdir=$(cd "${top_srcdir:-.}" && pwd)
ks=${abs_top_builddir:-$srcdir}/kerascope
fixtures=${KERASCOPE_FIXTURES:-}
expected=$srcdir/tests/expected
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ksgold.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

if [ ! -x "$ks" ]; then
	echo "golden: $ks is not built" >&2
	exit 99
fi

# check NAME DIR ARGS...: runs "kerascope ARGS..." inside DIR (so file names
# print relative) and compares the transcript with tests/expected/NAME.txt.
check() {
	name=$1 dir=$2
	shift 2
	out=$tmp/$name.txt
	(cd "$dir" && "$ks" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; echo $? >"$tmp/rc")
	{
		cat "$tmp/stdout"
		if [ -s "$tmp/stderr" ]; then
			echo "--- stderr"
			cat "$tmp/stderr"
		fi
		echo "--- exit $(cat "$tmp/rc")"
	} >"$out"
	if [ ! -f "$expected/$name.txt" ]; then
		echo "FAIL $name: no expected file tests/expected/$name.txt (output in $out)"
		cp "$out" "${TMPDIR:-/tmp}/ksgold-$name.txt"
		fail=$((fail + 1))
	elif diff -u "$expected/$name.txt" "$out"; then
		pass=$((pass + 1))
	else
		echo "FAIL $name: kerascope $*  (in $dir)"
		fail=$((fail + 1))
	fi
}

ex=$srcdir/examples
check summary_iris         "$ex" summary iris_mlp.h5
check summary_iris_json    "$ex" summary --json iris_mlp.h5
check summary_iris_keras3  "$ex" summary iris_mlp.keras
check ls_iris              "$ex" ls iris_mlp.h5
check ls_iris_keras3_json  "$ex" ls iris_mlp.keras --json
check ls_iris_h5           "$ex" ls --h5 iris_mlp_untrained.h5
check attrs_iris           "$ex" attrs iris_mlp.h5
check attrs_iris_keras3    "$ex" attrs iris_mlp.keras
check dump_iris_bias       "$ex" dump iris_mlp.h5 output/bias
check dump_iris_slice      "$ex" dump iris_mlp.h5 hidden/kernel --slice '[:, 0:4]' --bins 5
check dump_iris_json       "$ex" dump --json iris_mlp.keras output/bias --bins 2
check dump_iris_opt        "$ex" dump iris_mlp.h5 /optimizer_weights/Adam/output/bias/v:0 --stats
check stats_iris          "$ex" stats iris_mlp.h5
check stats_iris_opt_json "$ex" stats --json --optimizer iris_mlp.h5
check dump_iris_opt_name  "$ex" dump iris_mlp.h5 Adam/iter --bins 0
check config_iris          "$ex" config iris_mlp.h5
check config_iris_pretty   "$ex" config iris_mlp.h5 --pretty
check config_iris_keras3   "$ex" config iris_mlp.keras
check config_iris_json     "$ex" config --json iris_mlp.keras
check err_config_csv       "$ex" config iris.csv
check err_config_option    "$ex" config iris_mlp.h5 --config iris_mlp.keras
check err_missing_file     "$ex" summary no_such_file.h5
check err_not_keras        "$ex" summary iris.csv
check err_bad_weight       "$ex" dump iris_mlp.h5 hidden/nothing
check err_bad_slice        "$ex" dump iris_mlp.h5 hidden/kernel --slice '[0, 99]'
check err_bad_option       "$ex" ls iris_mlp.h5 --bogus
check err_missing_arg      "$ex" dump iris_mlp.h5
check doctor_iris          "$ex" doctor iris_mlp.h5 --labels iris_labels.txt
check doctor_iris_input    "$ex" doctor iris_mlp.h5 --input iris_sample.npy --explain
check doctor_iris_pair_json "$ex" doctor --json iris_mlp.h5 iris_mlp_reordered.h5
check doctor_help          "$ex" doctor --help
check err_doctor_missing   "$ex" doctor no_such_file.h5
check err_doctor_not_keras "$ex" doctor iris.csv
check err_doctor_option    "$ex" doctor iris_mlp.h5 --bogus
check err_doctor_args      "$ex" doctor iris_mlp.h5 iris_mlp.h5 iris_mlp.h5
check err_doctor_input     "$ex" doctor iris_mlp.h5 --input '[1, 2]'
check err_doctor_labels    "$ex" doctor iris_mlp.h5 --labels no_such_labels.txt
head -c 3000 "$ex/iris_mlp.h5" >"$tmp/truncated.h5"
check err_doctor_truncated "$tmp" doctor truncated.h5

# diff: two models side by side (examples; hostile pairs built here)
check diff_iris_formats    "$ex" diff iris_mlp.h5 iris_mlp.keras
check diff_iris_trained    "$ex" diff iris_mlp_untrained.h5 iris_mlp.h5 --input iris_sample.npy
check diff_iris_json       "$ex" diff --json iris_mlp_untrained.h5 iris_mlp.h5 --random 3
check diff_iris_report     "$ex" diff -d 0.5 -r --max 2 iris_mlp_untrained.h5 iris_mlp.h5
check diff_iris_quiet      "$ex" diff -q iris_mlp_untrained.h5 iris_mlp.h5
check diff_iris_quiet_same "$ex" diff -q --use-system-epsilon iris_mlp.h5 iris_mlp.h5
check err_diff_one_file    "$ex" diff iris_mlp.h5
check err_diff_two_tols    "$ex" diff -d 0.1 -p 0.1 iris_mlp.h5 iris_mlp.keras
check err_diff_bad_delta   "$ex" diff -d -1 iris_mlp.h5 iris_mlp.keras
check err_diff_missing     "$ex" diff iris_mlp.h5 no_such_file.h5
check err_diff_not_keras   "$ex" diff iris_mlp.h5 iris.csv
check err_diff_input       "$ex" diff iris_mlp.h5 iris_mlp.keras --input '[[1, 2]]'
cp "$ex/iris_mlp.h5" "$tmp/iris_mlp.h5"
head -c 4000 "$ex/iris_mlp.h5" >"$tmp/iris_truncated.h5"
check err_diff_truncated   "$tmp" diff iris_mlp.h5 iris_truncated.h5

if [ -z "$fixtures" ] || [ ! -d "$fixtures/real" ]; then
	echo "FAIL: KERASCOPE_FIXTURES ('$fixtures') has no real/ folder: fixture cases not run"
	fail=$((fail + 1))
else
	r=$fixtures/real
	check fx_functional_lstm "$r/dl4j-test-resources/examples/functional_lstm" \
		summary lstm_functional_tf_keras_2.h5
	check fx_weights_config  "$r/hls4ml-example-models/keras" \
		summary KERAS_3layer_weights.h5 --config KERAS_3layer.json
	check fx_doctor_lambda   "$fixtures/diagnosis/doc_lambda" doctor model.h5
	check fx_doctor_order    "$fixtures/diagnosis/doc_layer_order" \
		doctor weights.h5 --config arch.json --json
	check fx_keras1_attrs    "$r/dl4j-test-resources/examples/simple_lstm" \
		attrs simple_lstm_th_keras_1_model.h5
	check fx_plain_ls        "$r/dl4j-test-resources/examples/simple_rnn" \
		ls simple_rnn_tf_keras_2_inputs_and_outputs.h5
	check fx_nested_weights  "$r/minimal_vae" ls vae_cnn_mnist.h5
	check fx_plain_summary   "$r/dl4j-test-resources/examples/simple_rnn" \
		summary simple_rnn_tf_keras_2_inputs_and_outputs.h5
	check fx_config_json     "$r/hls4ml-example-models/keras" \
		config KERAS_3layer.json
	check fx_config_weights  "$r/hls4ml-example-models/keras" \
		config KERAS_3layer_weights.h5
	check fx_guess_summary   "$r/hls4ml-example-models/keras" \
		summary KERAS_3layer_batch_norm_weights.h5
	check fx_guess_ls_json   "$r/hls4ml-example-models/keras" \
		ls --json KERAS_conv2d_model_weights.h5
	d=$fixtures/diagnosis
	check fx_order_default   "$d/doc_layer_order" \
		predict weights.h5 --config arch.json --input input_0.npy
	check fx_order_by_name   "$d/doc_layer_order" \
		predict weights.h5 --load-order by-name --config arch.json --input input_0.npy
	check fx_order_no_names  "$d/doc_name_mismatch" \
		predict weights.h5 --config arch.json --input input_0.npy --load-order by-name
	check fx_order_summary   "$fixtures/conformance/pitfall_layer_order" \
		summary weights_b.h5 --config model_a.h5 --load-order by-name
	check fx_order_json      "$fixtures/conformance/pitfall_layer_order" \
		summary --json weights_a_reordered.h5 --config model_a.h5
fi

echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
