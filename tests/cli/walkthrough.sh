#!/bin/sh
# Runs the README's walk-through: every "    $ kerascope ARGS" line of the
# "Walk-through" section is run in examples/ and its output, indented by four
# spaces and followed by "(exit status N)", must match the README's text.
LC_ALL=C
export LC_ALL
srcdir=$(cd "${top_srcdir:-.}" && pwd)
ks=${abs_top_builddir:-$srcdir}/kerascope
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kswalk.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
[ -x "$ks" ] || { echo "walkthrough: $ks is not built" >&2; exit 99; }

# the section: from its title to the next underlined heading
awk '/^Walk-through/ { on = 1 } on && /^---/ && NR > start + 1 && start { exit }
     on && !start { start = NR } on { print }' "$srcdir/README" >"$tmp/section"
grep '^    \$ kerascope ' "$tmp/section" >"$tmp/commands"
n=$(wc -l <"$tmp/commands")
if [ "$n" -lt 1 ]; then
	echo "walkthrough: no commands found in README"
	exit 1
fi
fail=0
i=0
while IFS= read -r line; do
	i=$((i + 1))
	args=${line#    \$ kerascope }
	# expected: the lines after the command up to and including "(exit status N)"
	awk -v cmd="$line" 'found && /^    \(exit status/ { print; exit } found { print } $0 == cmd { found = 1 }' \
		"$tmp/section" >"$tmp/expected.$i"
	(cd "$srcdir/examples" && eval "\"$ks\" $args" >"$tmp/out" 2>&1; echo "(exit status $?)" >>"$tmp/out")
	sed 's/^/    /;s/^    $//' "$tmp/out" >"$tmp/got.$i"
	if diff -u "$tmp/expected.$i" "$tmp/got.$i"; then
		echo "PASS kerascope $args"
	else
		echo "FAIL kerascope $args"
		fail=1
	fi
done <"$tmp/commands"
exit $fail
