#!/bin/sh
# Damaged models through dgn-screen (bad_cli.sh runs them through dgn-eval):
# every model file of the corpus is refused with its message, a NaN model
# never screens to "score nan" rows, and a FIFO is refused without
# blocking. The undamaged control, tests/data/good/context.dgn, screens.
# Usage: model_cli.sh EXAMPLES_DIR SOURCE_DIR
set -eu
bin=$1
src=$2
bad=$src/tests/data/bad
grid="step=10, SiO2, Na2O, CaO"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
    echo "FAIL $*"
    failed=$((failed + 1))
}

"$bin/dgn-screen" "$src/tests/data/good/context.dgn" --grid "$grid" --top 3 \
    > "$tmp/out" 2> "$tmp/err" || fail "context.dgn: exit $?: $(cat "$tmp/err")"
grep -q "score" "$tmp/out" || fail "context.dgn: no ranked rows"
if grep -qi "nan" "$tmp/out"; then fail "context.dgn: NaN score"; fi

n=0
while IFS="$(printf '\t')" read -r kind file status fragment; do
    [ "$kind" = model ] || continue
    rc=0
    "$bin/dgn-screen" "$bad/$file" --grid "$grid" > "$tmp/out" 2> "$tmp/err" || rc=$?
    lines=$(wc -l < "$tmp/err")
    if [ "$rc" -eq 0 ] || [ "$rc" -ge 126 ] || [ "$lines" -ne 1 ] \
        || ! grep -qF -- "$fragment" "$tmp/err" || [ -s "$tmp/out" ]; then
        fail "$file: exit $rc, $lines line(s): $(head -c 300 "$tmp/err")"
    fi
    n=$((n + 1))
done < "$bad/MANIFEST"

# A FIFO with no writer: opening it must not wait for one.
mkfifo "$tmp/pipe.dgn"
for prog in dgn-screen dgn-eval; do
    case $prog in
        dgn-screen) set -- "$bin/dgn-screen" "$tmp/pipe.dgn" --grid "$grid" ;;
        dgn-eval) set -- "$bin/dgn-eval" "$tmp/pipe.dgn" "$src/tests/data/bad/nan.csv" ;;
    esac
    rc=0
    timeout 20 "$@" > /dev/null 2> "$tmp/err" || rc=$?
    if [ "$rc" -ne 1 ] || ! grep -qF "pipe.dgn: is a FIFO" "$tmp/err"; then
        fail "$prog on a FIFO: exit $rc (124: it blocked): $(head -c 300 "$tmp/err")"
    fi
done

echo "$n damaged models refused by dgn-screen, $failed failure(s)"
[ "$failed" -eq 0 ]
