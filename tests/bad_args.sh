#!/bin/sh
# Bad arguments through every program, table-driven: each case gives the
# program, its arguments, the exit status (2 for a bad argument, 1 for a
# library failure) and a fragment the message must hold. The message is
# stderr's last line and its only line naming the program, and comes
# before any epoch runs.
# Then: a --valid file that is the training file trains with one warning.
# Usage: bad_args.sh EXAMPLES_DIR DATA.csv
set -eu
bin=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

D=$tmp/small.csv
M=$tmp/m.dgn
head -n 1001 "$data" > "$D"
"$bin/dgn-train" "$D" --lo 500 --hi 600 --epochs 1 -o "$M" 2> /dev/null
# A validation file of one class (no TG in [500, 600]); one whose rows all
# sum outside the window; a table with a single component.
awk -F, 'NR == 1 || $NF < 450' "$D" | head -n 100 > "$tmp/one_class.csv"
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } NR <= 50 { $8 = $8 * 3; print }' "$D" \
    > "$tmp/all_dropped.csv"
# 60 rows, Tg 300..699, so that every range of dgn-paper's study has both
# classes on both sides of its split.
awk 'BEGIN { print "W% SiO2,TG"; for (i = 0; i < 60; i++) print "100," 300 + (i * 37) % 400 }' \
    > "$tmp/one_comp.csv"
# A 5,000-byte value, as an argument and as a column name before a bad cell.
long=START$(head -c 4990 /dev/zero | tr '\0' x)END
printf '%s,W%% Na2O,TG\nabc,50,500\n' "$long" > "$tmp/long_name.csv"

G="step=10, SiO2=40:80, Na2O=0:30, CaO"
# program | status | fragment | arguments (shell words; $D data, $M model, $tmp)
cases=$(cat <<'EOF'
dgn-train|2|dgn-train: --lo 600 is above --hi 500|$D --lo 600 --hi 500 -o $tmp/x.dgn
dgn-train|2|--lo: "abc" is not a number|$D --lo abc --hi 600 -o $tmp/x.dgn
dgn-train|2|--hi: "inf" is not a finite number|$D --lo 500 --hi inf -o $tmp/x.dgn
dgn-train|2|--batch 1e8 is outside [1, 349525]|$D --lo 500 --hi 600 --batch 1e8 -o $tmp/x.dgn
dgn-train|2|--batch 100000000 is outside [1, 349525]|$D --lo 500 --hi 600 --batch 100000000 -o $tmp/x.dgn
dgn-train|2|--batch 6148914691236517206 is outside [1, 349525]|$D --lo 500 --hi 600 --batch 6148914691236517206 -o $tmp/x.dgn
dgn-train|2|--batch 349525 needs too much memory for 19 components|$D --lo 500 --hi 600 --batch 349525 -o $tmp/x.dgn
dgn-train|2|--batch: "1.5" is not a whole number|$D --lo 500 --hi 600 --batch 1.5 -o $tmp/x.dgn
dgn-train|2|--epochs 0 is outside [1, 1000000]|$D --lo 500 --hi 600 --epochs 0 -o $tmp/x.dgn
dgn-train|2|--lr 0 must be above 0|$D --lo 500 --hi 600 --lr 0 -o $tmp/x.dgn
dgn-train|2|--tau -1 must be above 0|$D --lo 500 --hi 600 --tau -1 -o $tmp/x.dgn
dgn-train|2|--valid-fraction 1 is outside [0, 1)|$D --lo 500 --hi 600 --valid-fraction 1 -o $tmp/x.dgn
dgn-train|2|--sigma -1 is negative|$D --lo 500 --hi 600 --sigma -1 -o $tmp/x.dgn
dgn-train|2|--threads 2000 is outside [1, 1024]|$D --lo 500 --hi 600 --threads 2000 -o $tmp/x.dgn
dgn-train|2|--seed -1 is outside [0, 18446744073709551615]|$D --lo 500 --hi 600 --seed -1 -o $tmp/x.dgn
dgn-train|2|--select: "f1" is not auc or precision|$D --lo 500 --hi 600 --select f1 -o $tmp/x.dgn
dgn-train|2|--balance: "yes" is not auto, on or off|$D --lo 500 --hi 600 --balance yes -o $tmp/x.dgn
dgn-train|2|--property needs a column name|$D --lo 500 --hi 600 --property '' -o $tmp/x.dgn
dgn-train|2|--no-augment and --sigma exclude each other|$D --lo 500 --hi 600 --no-augment --sigma 0.1 -o $tmp/x.dgn
dgn-train|2|--valid and --valid-fraction exclude each other|$D --lo 500 --hi 600 --valid $D --valid-fraction 0.1 -o $tmp/x.dgn
dgn-train|2|--group-split applies to the --valid-fraction and --test-fraction splits|$D --lo 500 --hi 600 --valid $D --group-split -o $tmp/x.dgn
dgn-train|2|--epochs needs a value|$D --lo 500 --hi 600 -o $tmp/x.dgn --epochs
dgn-train|2|-o MODEL.dgn is required|$D --lo 500 --hi 600
dgn-train|2|add --no-interaction|$tmp/one_comp.csv --lo 500 --hi 600 --valid-fraction 0 -o $tmp/x.dgn
dgn-train|1|validation split: no row has TG in [500, 600]: the target class is empty|$D --lo 500 --hi 600 --valid $tmp/one_class.csv -o $tmp/x.dgn
dgn-train|2|--test and --test-fraction exclude each other|$D --lo 500 --hi 600 --test $D --test-fraction 0.2 -o $tmp/x.dgn
dgn-train|2|--test-fraction 1 is outside [0, 1)|$D --lo 500 --hi 600 --test-fraction 1 -o $tmp/x.dgn
dgn-train|2|--score: "knn" is not centre or contrast|$D --lo 500 --hi 600 --score knn -o $tmp/x.dgn
dgn-train|2|--schedule: "step" is not constant or cosine|$D --lo 500 --hi 600 --schedule step -o $tmp/x.dgn
dgn-train|2|--ensemble 2000 is outside [1, 1024]|$D --lo 500 --hi 600 --ensemble 2000 -o $tmp/x.dgn
dgn-train|2|--min-steps 50 is above --steps 20|$D --lo 500 --hi 600 --min-steps 50 --steps 20 -o $tmp/x.dgn
dgn-train|2|--min-steps 3000 is above --steps 20 (the default --min-steps is 3000)|$D --lo 500 --hi 600 --steps 20 -o $tmp/x.dgn
dgn-train|2|--patience -1 is outside [0, 1000000000]|$D --lo 500 --hi 600 --patience -1 -o $tmp/x.dgn
dgn-train|2|--valid-fraction 0.5 and --test-fraction 0.5 leave no training rows|$D --lo 500 --hi 600 --valid-fraction 0.5 --test-fraction 0.5 -o $tmp/x.dgn
dgn-train|1|--valid $tmp/all_dropped.csv has no rows to validate on (49 rows dropped|$D --lo 500 --hi 600 --valid $tmp/all_dropped.csv -o $tmp/x.dgn
dgn-train|2|xxxxEND" is not a number|$D --lo $long --hi 600 -o $tmp/x.dgn
dgn-train|1|END"): "abc" is not a number|$tmp/long_name.csv --lo 500 --hi 600 -o $tmp/x.dgn
dgn-eval|2|--k 0 is outside [1, |$M $D --k 0
dgn-eval|2|--k: "ten" is not a whole number|$M $D --k ten
dgn-eval|2|need MODEL.dgn and DATA.csv|$M
dgn-screen|2|--top 0 is outside [1, 16777216]|$M --grid "$G" --top 0
dgn-screen|2|--top 99999999999999999999 is outside [1, 16777216]|$M --grid "$G" --top 99999999999999999999
dgn-screen|2|--threads 0 is outside [1, 1024]|$M --grid "$G" --threads 0
dgn-screen|2|--shard 2/2: I must be below N|$M --grid "$G" --shard 2/2
dgn-screen|2|--shard: N -2 is outside [1, 4294967296]|$M --grid "$G" --shard 1/-2
dgn-screen|2|--shard: N 5000000000 is outside [1, 4294967296]|$M --grid "$G" --shard 0/5000000000
dgn-screen|2|--shard: "3" is not I/N|$M --grid "$G" --shard 3
dgn-screen|2|give exactly one of --grid and --candidates|$M --grid "$G" --candidates $D
dgn-screen|2|--grid: step 7 does not divide 100 %|$M --grid "step=7, SiO2, Na2O"
dgn-screen|2|--candidates needs a file name|$M --candidates ''
dgn-paper|2|--epochs 0 is outside [1, 1000000]|$D --quick --csv $tmp/p.csv --markdown $tmp/p.md --epochs 0
dgn-paper|2|--split-seeds 0 is outside [1, 100]|$D --quick --csv $tmp/p.csv --markdown $tmp/p.md --split-seeds 0
dgn-paper|2|--property needs a column name|$D --quick --csv $tmp/p.csv --markdown $tmp/p.md --property ''
dgn-paper|1|has 1 component column(s); the study's full model needs at least 2|$tmp/one_comp.csv --quick --csv $tmp/p.csv --markdown $tmp/p.md
dgn-paper|2|dgn-paper: unknown option --frobnicate|$D --quick --csv $tmp/p.csv --markdown $tmp/p.md --frobnicate
EOF
)

n=0
failed=0
while IFS='|' read -r prog status fragment args; do
    eval "set -- $args"
    rc=0
    "$bin/$prog" "$@" > /dev/null 2> "$tmp/err" || rc=$?
    want=$(printf '%s' "$fragment" | sed "s|\$tmp|$tmp|g")
    last=$(tail -n 1 "$tmp/err")
    # Only the message names the program (dgn-train's summary of the data
    # names the file).
    if [ "$rc" -ne "$status" ] || ! printf '%s' "$last" | grep -qF -- "$want" \
        || [ "${last#"$prog: "}" = "$last" ] || grep -q '^epoch ' "$tmp/err" \
        || [ "$(grep -c "^$prog: " "$tmp/err")" -ne 1 ]; then
        echo "FAIL $prog $(printf '%s' "$args" | head -c 100): exit $rc (want $status)," \
            "$(wc -l < "$tmp/err") line(s): $(head -c 300 "$tmp/err")"
        failed=$((failed + 1))
    fi
    n=$((n + 1))
done <<EOF
$cases
EOF
echo "$((n - failed)) of $n bad-argument cases passed"
[ "$failed" -eq 0 ] || exit 1

# A bad argument is a single line, before any file is read.
"$bin/dgn-train" "$tmp/missing.csv" --lo 5 --hi 1 -o "$tmp/x.dgn" 2> "$tmp/err" && fail "trained"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "dgn-train --lo 5 --hi 1: $(cat "$tmp/err")"

# --valid naming the training file, by another name: one warning, then
# training as asked.
ln -s "$D" "$tmp/same.csv"
"$bin/dgn-train" "$D" --valid "$tmp/same.csv" --lo 500 --hi 600 --epochs 1 -o "$tmp/y.dgn" \
    2> "$tmp/err" || fail "dgn-train --valid same file: $(cat "$tmp/err")"
[ "$(grep -c '^dgn-train: warning: --valid .* is the training file' "$tmp/err")" -eq 1 ] \
    || fail "no warning for --valid equal to the training file: $(cat "$tmp/err")"
[ "$(grep -c 'warning' "$tmp/err")" -eq 1 ] || fail "more than one warning: $(cat "$tmp/err")"
"$bin/dgn-train" "$D" --valid "$D" --lo 500 --hi 600 --epochs 1 -o "$tmp/y.dgn" 2> "$tmp/err"
grep -q '^dgn-train: warning: --valid' "$tmp/err" || fail "no warning for the same path"
echo "--valid equal to the training file trains with one warning"
echo "1 passed, 0 failed"
