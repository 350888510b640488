#!/bin/sh
# End to end through the example programs, on the bundled data with short
# training: dgn-eval reproduces dgn-train's AUC, results do not depend on
# thread counts or OpenBLAS's core, merged shards equal the unsharded top-k, screened compositions sum to 100 % within their bounds,
# bad arguments fail with one line, and dgn-paper --quick runs.
# Usage: cli.sh EXAMPLES_DIR DATA.csv
set -eu
bin=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A fixed split: every fifth row validates.
awk -F, 'NR == 1 { print > "'"$tmp"'/train.csv"; print > "'"$tmp"'/valid.csv"; next }
         NR % 5 == 0 { print > "'"$tmp"'/valid.csv"; next }
         { print > "'"$tmp"'/train.csv" }' "$data"

"$bin/dgn-train" "$tmp/train.csv" --valid "$tmp/valid.csv" --property TG --lo 500 --hi 600 \
    --epochs 2 --batch 64 --seed 7 --ensemble 1 --json -o "$tmp/m.dgn" > "$tmp/train.json" \
    2> "$tmp/train.log"
[ "$(grep -c '"epoch"' "$tmp/train.json")" -eq 2 ] || fail "expected 2 epoch lines"
train_auc=$(tail -n 1 "$tmp/train.json" | sed 's/.*"auc": \([0-9.]*\).*/\1/')
train_p=$(tail -n 1 "$tmp/train.json" | sed 's/.*"precision_at_k": \([0-9.]*\).*/\1/')
"$bin/dgn-eval" "$tmp/m.dgn" "$tmp/valid.csv" --json > "$tmp/eval.json" 2>/dev/null
eval_auc=$(tail -n 1 "$tmp/eval.json" | sed 's/.*"auc": \([0-9.]*\).*/\1/')
eval_p=$(tail -n 1 "$tmp/eval.json" | sed 's/.*"precision_at_k": \([0-9.]*\).*/\1/')
[ "$train_auc" = "$eval_auc" ] || fail "dgn-eval auc $eval_auc, dgn-train reported $train_auc"
[ "$train_p" = "$eval_p" ] || fail "dgn-eval p@k $eval_p, dgn-train reported $train_p"
grep -q '"n": 5815, "positives"' "$tmp/eval.json" || fail "unexpected eval row count: $(cat "$tmp/eval.json")"
echo "dgn-eval reproduces auc $eval_auc and p@100 $eval_p"

# --threads defaults to the CPUs the process may run on, which taskset
# narrows; the model is the same bytes at 1 thread.
"$bin/dgn-train" "$tmp/train.csv" --valid "$tmp/valid.csv" --property TG --lo 500 --hi 600 \
    --epochs 2 --batch 64 --seed 7 --ensemble 1 --threads 1 -o "$tmp/m1.dgn" 2> /dev/null
cmp -s "$tmp/m.dgn" "$tmp/m1.dgn" || fail "dgn-train's default threads and --threads 1 differ"
cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) # nproc heeds those; libdgn does not
[ "$cpus" -eq 1 ] && want="1 thread" || want="$cpus threads"
grep -q "; $want\$" "$tmp/train.log" || fail "dgn-train: expected \"$want\": $(head -n 1 "$tmp/train.log")"
if command -v taskset > /dev/null; then
    taskset -c 0 "$bin/dgn-train" "$tmp/train.csv" --valid "$tmp/valid.csv" --property TG \
        --lo 500 --hi 600 --epochs 1 --batch 64 --ensemble 1 -o "$tmp/x.dgn" 2>&1 \
        | grep -q "; 1 thread\$" || fail "dgn-train under taskset -c 0: not 1 thread"
fi
echo "dgn-train runs on $want by default (the same model as at 1)"

grid="step=5, SiO2=40:80, Al2O3=0:20, B2O3=0:20, Na2O=0:25, CaO=0:15, MgO=0:10"
"$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" --top 40 --threads 1 -o "$tmp/all.csv" > /dev/null 2>&1
"$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" --top 40 --threads 2 -o "$tmp/all2.csv" > /dev/null 2>&1
cmp -s "$tmp/all.csv" "$tmp/all2.csv" || fail "results depend on the thread count"

# The same bits whatever kernel OpenBLAS would pick and its thread count:
# a model trained under the SSE3 fallback at 1 thread equals one trained
# under the best core this CPU runs at 2, and so do their screens.
best=Prescott
grep -qw avx2 /proc/cpuinfo && best=Haswell
grep -qw avx512f /proc/cpuinfo && best=SkylakeX
head -n 3001 "$tmp/train.csv" > "$tmp/small.csv"
for env in "Prescott 1" "$best 2"; do
    set -- $env
    OPENBLAS_CORETYPE=$1 OPENBLAS_NUM_THREADS=$2 "$bin/dgn-train" "$tmp/small.csv" \
        --property TG --lo 500 --hi 600 --epochs 1 --seed 3 -o "$tmp/core-$1.dgn" 2> /dev/null
    OPENBLAS_CORETYPE=$1 OPENBLAS_NUM_THREADS=$2 "$bin/dgn-screen" "$tmp/core-$1.dgn" \
        --grid "$grid" --top 40 -o "$tmp/core-$1.csv" > /dev/null 2>&1
done
cmp -s "$tmp/core-Prescott.dgn" "$tmp/core-$best.dgn" \
    || fail "trained weights depend on OpenBLAS's core (Prescott vs $best)"
cmp -s "$tmp/core-Prescott.csv" "$tmp/core-$best.csv" \
    || fail "screened scores depend on OpenBLAS's core (Prescott vs $best)"
echo "training and screening give the same bits under Prescott at 1 thread and $best at 2"

# A test file is scored once, after training, and changes nothing before:
# two different test files give the same model, byte for byte, and
# dgn-eval on the test file reproduces the test AUC dgn-train reported.
head -n 1 "$tmp/valid.csv" > "$tmp/test-a.csv"
cp "$tmp/test-a.csv" "$tmp/test-b.csv"
sed -n '2,1000p' "$tmp/valid.csv" >> "$tmp/test-a.csv"
sed -n '1001,2000p' "$tmp/valid.csv" >> "$tmp/test-b.csv"
for t in a b; do
    "$bin/dgn-train" "$tmp/small.csv" --valid-fraction 0.2 --test "$tmp/test-$t.csv" \
        --property TG --lo 500 --hi 600 --epochs 2 --seed 3 --json -o "$tmp/test-$t.dgn" \
        > "$tmp/test-$t.json" 2> /dev/null
done
cmp -s "$tmp/test-a.dgn" "$tmp/test-b.dgn" || fail "the test file changed the trained model"
test_auc=$(tail -n 1 "$tmp/test-a.json" | sed 's/.*"test_auc": \([0-9.]*\).*/\1/')
"$bin/dgn-eval" "$tmp/test-a.dgn" "$tmp/test-a.csv" --json > "$tmp/eval-test.json" 2>/dev/null
eval_auc=$(tail -n 1 "$tmp/eval-test.json" | sed 's/.*"auc": \([0-9.]*\).*/\1/')
[ -n "$test_auc" ] && [ "$test_auc" = "$eval_auc" ] \
    || fail "dgn-eval on the test file gives auc $eval_auc, dgn-train reported $test_auc"
echo "a test file leaves the model unchanged; dgn-eval reproduces its auc $test_auc"
for s in 0 1; do
    "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" --top 40 --shard $s/2 -o "$tmp/s$s.csv" \
        > /dev/null 2>&1
done
# Merge: by score, then index; keep 40; compare all but the rank column.
(tail -n +2 "$tmp/s0.csv"; tail -n +2 "$tmp/s1.csv") | sort -t, -k3,3gr -k2,2n | head -n 40 \
    | cut -d, -f2- > "$tmp/merged"
tail -n +2 "$tmp/all.csv" | cut -d, -f2- > "$tmp/single"
cmp -s "$tmp/merged" "$tmp/single" || fail "merged shards differ from the single run"
[ "$(wc -l < "$tmp/single")" -eq 40 ] || fail "expected 40 results"
echo "shards 0/2 + 1/2 merged equal the unsharded top-40; 1 and 2 threads agree"

# Columns: rank,index,score, then 19 components in the model's order.
awk -F, 'NR == 1 { for (i = 4; i <= NF; i++) { gsub(/"/, "", $i); name[i] = $i }; next }
    { s = 0
      for (i = 4; i <= NF; i++) {
          s += $i; v[name[i]] = $i
          if (name[i] !~ /(SiO2|Al2O3|B2O3|Na2O|CaO|MgO)$/ && $i != 0) bad = bad " " name[i] "=" $i
      }
      if (s < 99.999 || s > 100.001) bad = bad " sum=" s
      if (v["W% SiO2"] < 40 || v["W% SiO2"] > 80 || v["W% Al2O3"] > 20 || v["W% B2O3"] > 20 \
          || v["W% Na2O"] > 25 || v["W% CaO"] > 15 || v["W% MgO"] > 10) bad = bad " out of bounds"
      if (bad != "") { print "row " NR ":" bad; exit 1 } }' "$tmp/all.csv" \
    || fail "a screened composition breaks its sum or bounds"
echo "every screened composition sums to 100 % within its bounds"

# The printed listing: same scores as the CSV, components largest first.
"$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" --top 5 2> /dev/null > "$tmp/top.txt"
awk '{ if ($4 !~ /^W%$/) { print "line " NR ": " $0; exit 1 }
       for (i = 6; i + 2 <= NF; i += 3) if ($(i + 3) > $i) { print "line " NR ": " $0; exit 1 } }' \
    "$tmp/top.txt" || fail "printed components are not largest first"
[ "$(awk '{ print $3 }' "$tmp/top.txt")" = "$(tail -n +2 "$tmp/all.csv" | head -n 5 \
    | awk -F, '{ printf "%.4f\n", $3 }')" ] || fail "printed scores differ from the CSV"
echo "the printed top 5 lists components largest first, with the CSV's scores"

# --ensemble 2: member 0 is the single network of the same seed; dgn-eval
# reproduces the ensemble's test AUC, and its output is the same at 2
# threads; dgn-screen adds a spread column and agrees with itself at 2
# threads; --ensemble 1 writes the plain model; the default is three
# networks.
ens() {
    "$bin/dgn-train" "$tmp/small.csv" --valid-fraction 0.2 --test "$tmp/test-a.csv" \
        --property TG --lo 500 --hi 600 --epochs 1 --seed 3 --json "$@" 2> /dev/null
}
ens --ensemble 1 -o "$tmp/one.dgn" > "$tmp/one.json"
"$bin/dgn-eval" "$tmp/one.dgn" "$tmp/small.csv" --json 2> /dev/null | grep -q '"members"' \
    && fail "--ensemble 1 wrote an ensemble file"
ens -o "$tmp/default.dgn" > "$tmp/default.json"
tail -n 1 "$tmp/default.json" | grep -q '^{"members": 3, ' \
    || fail "the default is not three networks: $(tail -n 1 "$tmp/default.json")"
ens --ensemble 2 -o "$tmp/ens.dgn" > "$tmp/ens.json"
[ "$(grep -c '"member": 1, "epoch"' "$tmp/ens.json")" -eq 1 ] || fail "no epoch line of member 1"
one_auc=$(tail -n 1 "$tmp/one.json" | sed 's/.*"test_auc": \([0-9.]*\).*/\1/')
m0_auc=$(grep '^{"member": 0, "seed"' "$tmp/ens.json" | sed 's/.*"test_auc": \([0-9.]*\).*/\1/')
[ -n "$one_auc" ] && [ "$one_auc" = "$m0_auc" ] \
    || fail "member 0's test auc $m0_auc, the single network's $one_auc"
tail -n 1 "$tmp/ens.json" | grep -q '^{"members": 2, ' || fail "no ensemble line: $(tail -n 1 "$tmp/ens.json")"
ens_auc=$(tail -n 1 "$tmp/ens.json" | sed 's/.*"test_auc": \([0-9.]*\).*/\1/')
"$bin/dgn-eval" "$tmp/ens.dgn" "$tmp/test-a.csv" --threads 1 --json > "$tmp/eval-ens.json" 2>/dev/null
eval_auc=$(tail -n 1 "$tmp/eval-ens.json" | sed 's/.*"auc": \([0-9.]*\).*/\1/')
[ "$ens_auc" = "$eval_auc" ] || fail "dgn-eval on the ensemble: auc $eval_auc, dgn-train $ens_auc"
grep -q '"members": 2, "member_auc_min"' "$tmp/eval-ens.json" || fail "dgn-eval: no members' range"
"$bin/dgn-eval" "$tmp/ens.dgn" "$tmp/test-a.csv" --threads 2 --json > "$tmp/eval-ens2.json" \
    2>/dev/null
cmp -s "$tmp/eval-ens.json" "$tmp/eval-ens2.json" \
    || fail "dgn-eval --threads 2 differs: $(diff "$tmp/eval-ens.json" "$tmp/eval-ens2.json")"
"$bin/dgn-screen" "$tmp/ens.dgn" --grid "$grid" --top 20 --threads 1 -o "$tmp/ens.csv" > "$tmp/ens.txt" 2>/dev/null
"$bin/dgn-screen" "$tmp/ens.dgn" --grid "$grid" --top 20 --threads 2 -o "$tmp/ens2.csv" \
    > /dev/null 2>&1
head -n 1 "$tmp/ens.csv" | grep -q '^rank,index,score,spread,"W% Al2O3"' \
    || fail "ensemble CSV lacks the spread column: $(head -n 1 "$tmp/ens.csv")"
cmp -s "$tmp/ens.csv" "$tmp/ens2.csv" || fail "ensemble results depend on the thread count"
grep -q '^  1  score [0-9.-]*  spread [0-9.]* ' "$tmp/ens.txt" || fail "no spread printed: $(head -n 1 "$tmp/ens.txt")"
echo "--ensemble 2: member 0 is the single network; dgn-eval reproduces auc $ens_auc; spread shown"

# Bad arguments: non-zero exit and exactly one line naming the argument.
check_bad() {
    want=$1
    shift
    if "$@" > "$tmp/out" 2> "$tmp/err"; then fail "$* succeeded"; fi
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$*: expected one line, got: $(cat "$tmp/err")"
    grep -q -- "$want" "$tmp/err" || fail "$*: message lacks $want: $(cat "$tmp/err")"
}
check_bad "--lo" "$bin/dgn-train" "$data" --lo abc --hi 600 -o "$tmp/x.dgn"
check_bad "unknown option --frobnicate" "$bin/dgn-train" "$data" --frobnicate
check_bad "--shard" "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" --shard 2/2
check_bad "Fe2O3" "$bin/dgn-screen" "$tmp/m.dgn" --grid "step=10, SiO2, Fe2O3"
check_bad "not-there.dgn" "$bin/dgn-eval" "$tmp/not-there.dgn" "$tmp/valid.csv"
check_bad "--k" "$bin/dgn-eval" "$tmp/m.dgn" "$tmp/valid.csv" --k 0
check_bad "--ensemble 0 is outside" "$bin/dgn-train" "$data" --lo 500 --hi 600 --ensemble 0 \
    -o "$tmp/x.dgn"
echo "bad arguments fail with one line"

"$bin/dgn-paper" "$data" --quick --csv "$tmp/paper.csv" --markdown "$tmp/paper.md" 2> "$tmp/paper.log"
[ "$(wc -l < "$tmp/paper.csv")" -eq 6 ] || fail "dgn-paper --quick wrote $(wc -l < "$tmp/paper.csv") lines"
grep -q "^random-split,300,400," "$tmp/paper.csv" || fail "dgn-paper: no random split row"
grep -q "^paper-form,300,400," "$tmp/paper.csv" || fail "dgn-paper: no row for the paper's form"
grep -q "### Width 100" "$tmp/paper.md" || fail "dgn-paper: no markdown tables"
echo "dgn-paper --quick writes its CSV and tables"
echo "1 passed, 0 failed"
