#!/bin/sh
# One table reader (lib/table.c) for training and screening: a table is
# treated the same by dgn-train and by dgn-screen --candidates. A percent
# row followed by fraction rows (and the reverse) is refused by both with
# the same message; a consistent table loses the same rows to the sum
# window in both.
# Usage: tables.sh EXAMPLES_DIR DATA.csv
set -eu
bin=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

head -n 3001 "$data" > "$tmp/small.csv"
"$bin/dgn-train" "$tmp/small.csv" --property TG --lo 500 --hi 600 --epochs 1 --seed 3 \
    -o "$tmp/m.dgn" 2> /dev/null || fail "training the model for the screen"

# Rows 2.. of the bundled table (percents) with the components of the rows
# NR in [from, to] divided by 100 (fractions); the property stays.
fractions() { # from to out
    awk -F, -v OFS=, -v from="$1" -v to="$2" \
        'NR >= from && NR <= to { for (i = 1; i < NF; i++) $i = sprintf("%.17g", $i / 100) }
         { print }' "$tmp/small.csv" > "$3"
}

# Both programs' one-line error, without the program's name.
refusal() { # program file
    case $1 in
    dgn-train) rc=0; "$bin/dgn-train" "$2" --property TG --lo 500 --hi 600 --epochs 1 \
                   -o "$tmp/x.dgn" 2> "$tmp/err" || rc=$? ;;
    dgn-screen) rc=0; "$bin/dgn-screen" "$tmp/m.dgn" --candidates "$2" -o "$tmp/x.csv" \
                    > /dev/null 2> "$tmp/err" || rc=$? ;;
    esac
    [ "$rc" -eq 1 ] || fail "$1 $2: exit status $rc, expected 1: $(cat "$tmp/err")"
    sed "s/^$1: //" "$tmp/err"
}

# Percent row first (line 2), fractions after; then fractions first.
fractions 3 3001 "$tmp/pct-first.csv"
fractions 2 2 "$tmp/frac-first.csv"
for f in pct-first frac-first; do
    t=$(refusal dgn-train "$tmp/$f.csv")
    s=$(refusal dgn-screen "$tmp/$f.csv")
    [ "$t" = "$s" ] || fail "$f: dgn-train says \"$t\", dgn-screen says \"$s\""
    case $f in
    pct-first) want="$tmp/$f.csv:3 sums to 1, $tmp/$f.csv:2 sums to 100" ;;
    frac-first) want="$tmp/$f.csv:2 sums to 1, $tmp/$f.csv:3 sums to 100" ;;
    esac
    case $t in
    *"mixes fractions and percents: $want"*) ;;
    *) fail "$f: unexpected message \"$t\"" ;;
    esac
done
echo "a percent row before fraction rows, or after, is refused alike: $t"

# All fractions, two rows moved out of the window: both leave out two.
fractions 2 3001 "$tmp/frac.csv"
awk -F, -v OFS=, 'NR == 5 || NR == 9 { $1 = $1 + 0.2 } { print }' "$tmp/frac.csv" \
    > "$tmp/off.csv"
"$bin/dgn-train" "$tmp/off.csv" --property TG --lo 500 --hi 600 --epochs 1 \
    -o "$tmp/x.dgn" 2> "$tmp/train.log" > /dev/null || fail "dgn-train: $(cat "$tmp/train.log")"
"$bin/dgn-screen" "$tmp/m.dgn" --candidates "$tmp/off.csv" -o "$tmp/x.csv" \
    > /dev/null 2> "$tmp/screen.log" || fail "dgn-screen: $(cat "$tmp/screen.log")"
grep -q "; 2 dropped, 0 skipped" "$tmp/train.log" || fail "dgn-train: $(head -n 1 "$tmp/train.log")"
grep -q "rejected 2 rows" "$tmp/screen.log" || fail "dgn-screen: $(cat "$tmp/screen.log")"
echo "a fraction table with 2 rows off the sum window: both leave out 2"
