#!/bin/sh
# Every file of the bad-input corpus through the programs: a non-zero exit
# that is not a crash, and a single line on stderr; for a file listed with
# DGN_OK (candidates with rows left out), exit 0 and the fragment on stderr.
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
        candidates) set -- "$bin/dgn-screen" "$tmp/m.dgn" --candidates "$bad/$file" ;;
    esac
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
done < "$bad/MANIFEST"

# Inputs that cannot live in the corpus: devices, FIFOs, directories. Each
# is refused at once (a FIFO without a writer must not block the reader).
mkfifo "$tmp/fifo.csv"
for input in /dev/zero:"is a character device" "$tmp/fifo.csv":"is a FIFO (named pipe)" \
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
