#!/bin/sh
# Sessions written from Keras' own outputs replay within tolerance: for each
# real model in $KERASCOPE_FIXTURES/real that ships a Keras run
# (*_inputs_and_outputs.h5 beside *_model.h5, real/README.md), a session is
# written with h5py by tests/session_from_keras.py following the man page,
# and `kerascope replay` must find the same results within 1e-5 of the
# outputs' scale, the same weights (the script's own digest), and no layer
# diverging from the per-layer Keras outputs the export ships.
#
# Runs from `make check` (top_srcdir, abs_top_builddir, KERASCOPE_FIXTURES).
LC_ALL=C
export LC_ALL
srcdir=$(cd "${top_srcdir:-.}" && pwd)
ks=${abs_top_builddir:-$srcdir}/kerascope
fx=${KERASCOPE_FIXTURES:-}
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kssesskeras.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

if [ ! -x "$ks" ]; then
	echo "session-keras: $ks is not built" >&2
	exit 99
fi
if [ -z "$fx" ] || [ ! -d "$fx/real" ]; then
	echo "session-keras: KERASCOPE_FIXTURES is not set or has no real/ (needed)" >&2
	exit 1
fi
if ! "$py" -c 'import h5py, numpy' 2>/dev/null; then
	echo "session-keras: $py with h5py and numpy is needed (tools/install-deps installs them)" >&2
	exit 1
fi

n=0
for io in $(find "$fx/real" -name '*_inputs_and_outputs.h5' | sort); do
	model=${io%_inputs_and_outputs.h5}_model.h5
	[ -f "$model" ] || continue
	n=$((n + 1))
	s=$tmp/s$n.h5
	name=$(basename "${io%_inputs_and_outputs.h5}")
	tol=$("$py" "$srcdir/tests/session_from_keras.py" "$io" "$model" "$s" 2>"$tmp/err")
	st=$?
	if [ "$st" -eq 3 ]; then
		echo "skip $name: $(cat "$tmp/err")"
		continue
	elif [ "$st" -ne 0 ]; then
		echo "FAIL $name: the h5py script failed: $(cat "$tmp/err")"
		fail=$((fail + 1))
		continue
	fi
	before=$(cksum <"$s")
	"$ks" replay "$s" -d "$tol" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	acts=$("$py" -c 'import sys, h5py; print(len(h5py.File(sys.argv[1], "r").get("activations", {})))' "$s")
	if [ "$rc" -eq 0 ] && grep -q "^model: same weights" "$tmp/out" &&
	   grep -q "^result: same results" "$tmp/out" &&
	   { [ "$acts" -eq 0 ] || grep -q "^activations: $acts layer outputs\{0,1\} compared, none diverges" "$tmp/out"; }; then
		echo "PASS $name (-d $tol): $(grep '^output 0' "$tmp/out")${acts:+, $acts Keras activations}"
		pass=$((pass + 1))
	else
		echo "FAIL $name: replay exit $rc (-d $tol)"
		cat "$tmp/out" "$tmp/err"
		fail=$((fail + 1))
	fi
	[ "$(cksum <"$s")" = "$before" ] || { echo "FAIL $name: replay modified the session"; fail=$((fail + 1)); }
done
if [ "$pass" -eq 0 ]; then
	echo "FAIL: no model with Keras outputs (*_inputs_and_outputs.h5 beside *_model.h5) under $fx/real"
	fail=$((fail + 1))
fi
echo "session-keras: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
