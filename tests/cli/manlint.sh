#!/bin/sh
# Lints the man page: groff in warning mode (every warning category, any
# output is a failure), or mandoc -Tlint. Skips (77) only when neither exists.
page=${abs_top_builddir:-.}/man/kerascope.1
if [ ! -f "$page" ]; then
	echo "manlint: $page not generated" >&2
	exit 99
fi
if command -v groff >/dev/null 2>&1; then
	out=$(groff -man -ww -z "$page" 2>&1)
	tool=groff
elif command -v mandoc >/dev/null 2>&1; then
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
	tool=mandoc
else
	echo "manlint: neither groff nor mandoc is installed" >&2
	exit 77
fi
if [ -n "$out" ]; then
	echo "manlint ($tool): $out"
	exit 1
fi
# The interactive section markers the inspector's keys are filled between.
grep -q '^\.\\" BEGIN INTERACTIVE' "$page" && grep -q '^\.\\" END INTERACTIVE' "$page" || {
	echo "manlint: INTERACTIVE markers missing"
	exit 1
}
echo "manlint ($tool): clean"
