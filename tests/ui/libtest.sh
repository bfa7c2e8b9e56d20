# libtest.sh: shared set-up for the inspector's screen tests (tig's libtest).
#
# Each tests/ui/*-test sources this, writes a script with `steps`, runs the
# inspector headless with `run_ks FILE` (KERASCOPE_SCRIPT + KERASCOPE_NO_DISPLAY:
# the real readline path, a virtual screen, no tty needed), then compares the
# screens it saved (@save-display NAME) with `assert_equals NAME <<EOF`.
# Failures print a unified diff; the test exits 1 at `finish` if any failed.
# The environment is pinned: locale, TERM, size, HOME, XDG dirs, TZ, INPUTRC.

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${abs_top_builddir:=$(pwd)}"
case $top_srcdir in /*) ;; *) top_srcdir=$(cd "$top_srcdir" && pwd) ;; esac
KERASCOPE=${KERASCOPE:-$abs_top_builddir/kerascope}
test_name=$(basename "$0")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ks-ui.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/data" "$tmp/tmpdir"

export LC_ALL=C.UTF-8 TZ=UTC TERM=dumb LINES=24 COLUMNS=100
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" INPUTRC=/dev/null TMPDIR="$tmp/tmpdir"
export KERASCOPE_NO_DISPLAY=1 NO_COLOR=1
unset XDG_CONFIG_HOME XDG_CACHE_HOME KERASCOPE_SCRIPT LANG LANGUAGE 2>/dev/null || true
cd "$tmp" || exit 99

# The example model, under a short name so that screens do not depend on srcdir.
ln -s "$top_srcdir/examples/iris_mlp.h5" iris_mlp.h5
ln -s "$top_srcdir/examples/iris_sample.npy" iris_sample.npy

failed=0

fail() {
	echo "FAIL: $test_name: $*" >&2
	failed=1
}

# steps 'TEXT': the script (ui_input.h syntax), one item per line.
steps() {
	printf '%s\n' "$1" > "$tmp/script"
}

# run_ks ARGS...: runs the inspector on the script; status in $status.
run_ks() {
	KERASCOPE_SCRIPT="$tmp/script" "$KERASCOPE" "$@" > "$tmp/stdout" 2> "$tmp/stderr"
	status=$?
	if [ -s "$tmp/stderr" ] && [ "${expect_stderr:-no}" = no ]; then
		fail "unexpected stderr:"
		cat "$tmp/stderr" >&2
	fi
}

# assert_equals NAME <<EOF ... EOF: the saved screen NAME equals stdin.
assert_equals() {
	cat > "$tmp/$1.expected"
	if [ ! -f "$tmp/$1" ]; then
		fail "$1 was not saved"
		return
	fi
	if ! diff -u "$tmp/$1.expected" "$tmp/$1" >&2; then
		fail "$1 differs from the expected screen (diff above: - expected, + got)"
	fi
}

# assert_contains NAME TEXT: the saved screen (or file) NAME has a line containing TEXT.
assert_contains() {
	if ! grep -qF -- "$2" "$tmp/$1" 2>/dev/null; then
		fail "$1 does not contain '$2'"
		[ -f "$tmp/$1" ] && cat "$tmp/$1" >&2
	fi
}

assert_not_contains() {
	if grep -qF -- "$2" "$tmp/$1" 2>/dev/null; then
		fail "$1 contains '$2'"
		cat "$tmp/$1" >&2
	fi
}

assert_status() {
	[ "$status" = "$1" ] || fail "exit status $status, expected $1"
}

finish() {
	[ "$failed" = 0 ] && echo "PASS: $test_name"
	exit "$failed"
}
