#!/bin/sh
# The shipped sample data is exactly what the generator makes.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 3

: "${CW_BUILD:?}"
"$CW_BUILD/gen-sample" "$T/data"
is "$?" 0 "the generator runs"
is "$(diff -r "$T/data" "$ROOT/share/data" >/dev/null && echo same)" same \
	"share/data is the generator's output, byte for byte"
is "$(cd "$T/data/labels" && printf "%s\n" * | tr '\n' ' ')" \
	"AUD_USD EUR_USD GBP_USD USD_CAD USD_JPY " "five instruments"
finish
