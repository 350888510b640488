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
run_one() {
    rc=0
    "$@" > /dev/null 2> "$tmp/err" || rc=$?
    lines=$(wc -l < "$tmp/err")
    if [ "$status" = DGN_OK ]; then
        if [ "$rc" -ne 0 ] || ! grep -qF -- "$fragment" "$tmp/err"; then
            echo "FAIL $file: exit $rc: $(head -c 300 "$tmp/err")"
            failed=$((failed + 1))
        fi
    elif [ "$rc" -eq 0 ] || [ "$rc" -ge 126 ] || [ "$lines" -ne 1 ] \
        || ! grep -qF -- "$fragment" "$tmp/err"; then
        echo "FAIL $file: exit $rc, $lines line(s): $(head -c 300 "$tmp/err")"
        failed=$((failed + 1))
    fi
    n=$((n + 1))
}
# output_path SCENARIO INPUT: an output path of that kind (MANIFEST "output").
output_path() {
    o=$tmp/out
    rm -rf "$o"
    case $1 in
        same_as_input) o=$2 ;;
        hard_link_to_input) ln "$2" "$o" ;;
        symlink_to_input) ln -s "$2" "$o" ;;
        input_through_dot) o=$(dirname "$2")/./$(basename "$2") ;;
        dev_null|dev_full) o=/dev/${1#dev_} ;;
        fifo) mkfifo "$o" ;;
        directory) mkdir "$o" ;;
        missing_directory) o=$tmp/none/out ;;
        dangling_symlink) ln -s nowhere "$o" ;;
    esac
}
while IFS="$(printf '\t')" read -r kind file status fragment; do
    case "$kind" in "#"*|"") continue ;; esac
    case "$kind" in
        csv) run_one "$bin/dgn-train" "$bad/$file" --lo 500 --hi 600 -o "$tmp/x.dgn" ;;
        model) run_one "$bin/dgn-eval" "$bad/$file" "$tmp/small.csv" ;;
        grid) run_one "$bin/dgn-screen" "$tmp/m.dgn" --grid "$(cat "$bad/$file")" ;;
        candidates) run_one "$bin/dgn-screen" "$tmp/m.dgn" --candidates "$bad/$file" ;;
        output) # every program's every output flag, against its own input
            output_path "$file" "$tmp/small.csv"
            run_one "$bin/dgn-train" "$tmp/small.csv" --lo 500 --hi 600 --epochs 1 -o "$o"
            run_one "$bin/dgn-paper" "$tmp/small.csv" --quick --csv "$o" --markdown "$tmp/p.md"
            run_one "$bin/dgn-paper" "$tmp/small.csv" --quick --csv "$tmp/p.csv" --markdown "$o"
            output_path "$file" "$tmp/m.dgn"
            run_one "$bin/dgn-screen" "$tmp/m.dgn" --grid "step=10, SiO2, Na2O" -o "$o" ;;
    esac
done < "$bad/MANIFEST"

# Inputs that cannot live in the corpus: devices, FIFOs, directories. Each
# is refused at once (a FIFO without a writer must not block the reader).
mkfifo "$tmp/fifo.csv"
for input in /dev/zero:"is a character device" "$tmp/fifo.csv":"is a FIFO" \
             "$tmp":"is a directory"; do
    path=${input%%:*}
    fragment=${input#*:}
    for prog in train screen; do
        if [ "$prog" = train ]; then
            set -- "$bin/dgn-train" "$path" --lo 500 --hi 600 -o "$tmp/y.dgn"
        else
            set -- "$bin/dgn-screen" "$tmp/m.dgn" --candidates "$path"
        fi
        rc=0
        timeout 20 "$@" > /dev/null 2> "$tmp/err" || rc=$?
        if [ "$rc" -ne 1 ] || [ "$(wc -l < "$tmp/err")" -ne 1 ] \
            || ! grep -qF -- "$path: $fragment, not a regular file" "$tmp/err"; then
            echo "FAIL dgn-$prog $path: exit $rc: $(head -c 300 "$tmp/err")"
            failed=$((failed + 1))
        fi
        n=$((n + 1))
    done
done
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
