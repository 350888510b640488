#!/bin/sh
# valgrind memcheck of a small dgn-train and dgn-screen run: 0 errors and
# 0 definitely-lost bytes, or a non-zero exit.
# Usage: tests/valgrind.sh EXAMPLES_DIR DATA.csv
set -eu
bin=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n 301 "$data" > "$tmp/small.csv"
# One BLAS thread keeps the run short under valgrind's serialised threads.
export OPENBLAS_NUM_THREADS=1
check() {
    name=$1
    shift
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
        "$@" > /dev/null 2> "$tmp/$name.log" || {
        tail -n 30 "$tmp/$name.log"
        echo "valgrind: $name FAILED"
        exit 1
    }
    echo "$name: $(grep 'ERROR SUMMARY' "$tmp/$name.log" | sed 's/^==[0-9]*== //'); \
$(grep -E 'definitely lost|no leaks are possible' "$tmp/$name.log" | sed 's/^==[0-9]*== *//')"
}
check dgn-train "$bin/dgn-train" "$tmp/small.csv" --property TG --lo 500 --hi 600 \
    --epochs 1 --batch 32 -o "$tmp/m.dgn"
check dgn-screen "$bin/dgn-screen" "$tmp/m.dgn" --grid "step=10, SiO2, Na2O, CaO, Al2O3" \
    --threads 2 --top 3 -o "$tmp/top.csv"
