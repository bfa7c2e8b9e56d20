#!/bin/sh
# The reproducers of the fuzzing campaign (issue 13), read in place from the
# shared folder beside the repository (never copied): every file listed in
# its README table is run with the command the README gives, and must
#   - finish within 10 s (timeout),
#   - exit 0 (a valid file) or 2 with exactly one line on stderr that names
#     the file and carries no control character,
#   - print no sanitizer report (an ASan/UBSan build runs the same test),
#   - leave the file unchanged (checksums before and after).
# New rows in the README are picked up without touching this test.
#
# The folder: $KERASCOPE_FUZZ_REPRO, else $KERASCOPE_FIXTURES/../fuzz-repro.
# A missing folder is a hard error (exit 99), never a skip.
LC_ALL=C
export LC_ALL
srcdir=$(cd "${top_srcdir:-.}" && pwd)
ks=$(cd "${abs_top_builddir:-$srcdir}" && pwd)/kerascope
repro=${KERASCOPE_FUZZ_REPRO:-${KERASCOPE_FIXTURES:-$srcdir/../shared/fixtures}/../fuzz-repro}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ksrepro.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
esc=$(printf '\033')
pass=0
fail=0

if [ ! -x "$ks" ]; then
	echo "fuzz-repro: $ks is not built" >&2
	exit 99
fi
if [ ! -f "$repro/README.md" ]; then
	echo "fuzz-repro: no reproducers at $repro (set KERASCOPE_FUZZ_REPRO or KERASCOPE_FIXTURES)" >&2
	exit 99
fi

# Table rows: | `FILE` | `summary FILE` | ... ; the script row is not a case.
sed -n 's/^| `\([^`]*\)` | `\([^`]*\)` |.*/\1 \2/p' "$repro/README.md" | grep -v '\.py ' >"$tmp/cases"
if [ ! -s "$tmp/cases" ]; then
	echo "fuzz-repro: no cases found in $repro/README.md" >&2
	exit 99
fi

while read -r file cmd; do
	if [ ! -f "$repro/$file" ]; then
		echo "FAIL $file: listed in the README but missing"
		fail=$((fail + 1))
		continue
	fi
	args=$(echo "$cmd" | sed "s|FILE|$file|")
	before=$(sha256sum <"$repro/$file")
	start=$(date +%s)
	# shellcheck disable=SC2086 # args is a command line from the README
	(cd "$repro" && timeout 10 "$ks" $args >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc")
	rc=$(cat "$tmp/rc")
	secs=$(($(date +%s) - start))
	after=$(sha256sum <"$repro/$file")
	why=
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" = 124 ]; then
		why="still running after 10 s"
	elif [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
		why="exit $rc"
	elif grep -q 'Sanitizer\|runtime error:' "$tmp/err"; then
		why="sanitizer report"
	elif [ "$rc" = 2 ] && [ "$lines" != 1 ]; then
		why="$lines lines on stderr, not one"
	elif [ "$rc" = 2 ] && ! grep -q "^kerascope: $file: " "$tmp/err"; then
		why="the error line does not name the file"
	elif grep -q "$esc" "$tmp/err" "$tmp/out" || tr -d '\n\t' <"$tmp/err" | grep -q '[[:cntrl:]]'; then
		why="control characters reach the terminal"
	elif [ "$before" != "$after" ]; then
		why="the file changed"
	fi
	if [ -n "$why" ]; then
		echo "FAIL $file ($args): $why"
		sed 's/^/    /' "$tmp/err" | head -20
		fail=$((fail + 1))
	else
		echo "ok   $file ($args): exit $rc in ${secs}s"
		pass=$((pass + 1))
	fi
done <"$tmp/cases"

echo "fuzz-repro: $pass passed, $fail failed"
[ "$fail" = 0 ]
