#!/bin/sh
# tools/install-deps without root: with no sudo and no terminal for su it
# says so and prints the command for root (exit 1, nothing run); with sudo
# it runs apt-get through sudo; man-db is among the packages (man -l needs
# it); nothing is done when every package is present. Fake dpkg-query, id,
# sudo and apt-get in a private PATH; nothing is installed.
srcdir=$(cd "${top_srcdir:-.}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ksdeps.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
mkdir "$tmp/bin"
for t in sh grep cat; do
	ln -s "$(command -v $t)" "$tmp/bin/$t" || exit 99
done
printf '#!/bin/sh\necho 1000\n' >"$tmp/bin/id"
# dpkg-query: installed only when $tmp/installed exists
printf '#!/bin/sh\n[ -e "%s/installed" ] && printf "install ok installed"\nexit 0\n' "$tmp" >"$tmp/bin/dpkg-query"
chmod +x "$tmp/bin/id" "$tmp/bin/dpkg-query"

PATH=$tmp/bin sh "$srcdir/tools/install-deps" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "neither sudo nor an interactive su" "$tmp/err" &&
	grep -q "apt-get install.* man-db" "$tmp/err"; then pass=$((pass + 1)); else
	echo "FAIL: no sudo: exit $rc: $(cat "$tmp/err")"; fail=$((fail + 1)); fi

printf '#!/bin/sh\necho "sudo $*" >>"%s/log"\n' "$tmp" >"$tmp/bin/sudo"
chmod +x "$tmp/bin/sudo"
PATH=$tmp/bin sh "$srcdir/tools/install-deps" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^sudo sh -c apt-get update" "$tmp/log"; then pass=$((pass + 1)); else
	echo "FAIL: sudo: exit $rc: $(cat "$tmp/log" "$tmp/err" 2>/dev/null)"; fail=$((fail + 1)); fi

: >"$tmp/installed"
rm -f "$tmp/log"
PATH=$tmp/bin sh "$srcdir/tools/install-deps" </dev/null >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ] && [ ! -e "$tmp/log" ]; then pass=$((pass + 1)); else
	echo "FAIL: all present: exit $rc, output: $(cat "$tmp/out")"; fail=$((fail + 1)); fi

echo "install-deps: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
