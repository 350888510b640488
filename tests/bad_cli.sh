#!/bin/sh
# Every file of the bad-input corpus through the programs: a non-zero exit
# that is not a crash, and a single line on stderr.
# Usage: bad_cli.sh EXAMPLES_DIR SOURCE_DIR
set -eu
bin=$1
src=$2
bad=$src/tests/data/bad
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n 3001 "$src/data/sciglass_tg_wt.csv" > "$tmp/small.csv"
"$bin/dgn-train" "$tmp/small.csv" --property TG --lo 500 --hi 600 --epochs 1 \
    -o "$tmp/m.dgn" 2> /dev/null
n=0
failed=0
while IFS="$(printf '\t')" read -r kind file status fragment; do
    case "$kind" in "#"*|"") continue ;; esac
    case "$kind" in
        csv) set -- "$bin/dgn-train" "$bad/$file" --lo 500 --hi 600 -o "$tmp/x.dgn" ;;
        model) set -- "$bin/dgn-eval" "$bad/$file" "$tmp/small.csv" ;;
        grid) set -- "$bin/dgn-screen" "$tmp/m.dgn" --grid "$(cat "$bad/$file")" ;;
    esac
    rc=0
    "$@" > /dev/null 2> "$tmp/err" || rc=$?
    lines=$(wc -l < "$tmp/err")
    if [ "$rc" -eq 0 ] || [ "$rc" -ge 126 ] || [ "$lines" -ne 1 ] \
        || ! grep -qF -- "$fragment" "$tmp/err"; then
        echo "FAIL $file: exit $rc, $lines line(s): $(head -c 300 "$tmp/err")"
        failed=$((failed + 1))
    fi
    n=$((n + 1))
done < "$bad/MANIFEST"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
