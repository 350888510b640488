#!/bin/sh
# No input or previous output is ever destroyed by the programs: an output
# that is the same file as an input (by name, hard link or symbolic link),
# a device, a FIFO, a directory or a path in a missing directory is refused
# with exit 2 before any work starts, and the input is intact; a write that
# fails (ulimit -f 0) exits non-zero and keeps the previous file and leaves
# no temporary file; modes are kept or follow the umask.
# Usage: outputs.sh EXAMPLES_DIR SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
umask 022
head -n 3001 "$src/data/sciglass_tg_wt.csv" > "$tmp/small.csv"
cp "$tmp/small.csv" "$tmp/valid.csv"
cp "$tmp/small.csv" "$tmp/cand.csv"
ln "$tmp/small.csv" "$tmp/hard.csv"
ln -s small.csv "$tmp/soft.csv"
mkfifo "$tmp/fifo"
mkdir "$tmp/dir"
train="--lo 500 --hi 600 --epochs 1 --property TG"
# shellcheck disable=SC2086
"$bin/dgn-train" "$tmp/small.csv" $train -o "$tmp/m.dgn" 2> /dev/null
for f in small valid cand m; do cp "$tmp/$f".* "$tmp/$f.orig"; done
grid="step=5, SiO2=40:80, Al2O3=0:20, Na2O=0:25, CaO=0:15"

# refused FLAG WANT CMD...: exit 2, one line naming the flag and WANT,
# quickly (the check comes before loading or training), inputs intact.
refused() {
    flag=$1 want=$2
    shift 2
    t0=$(date +%s%N)
    rc=0
    timeout 20 "$@" > /dev/null 2> "$tmp/err" || rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$rc" -eq 2 ] || fail "$*: exit $rc, wanted 2: $(cat "$tmp/err")"
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$*: expected one line: $(cat "$tmp/err")"
    grep -qF -- "$flag: " "$tmp/err" || fail "$*: message lacks $flag: $(cat "$tmp/err")"
    grep -qF -- "$want" "$tmp/err" || fail "$*: message lacks $want: $(cat "$tmp/err")"
    [ "$ms" -lt 1000 ] || fail "$*: took $ms ms to refuse its output"
    for f in small valid cand m; do
        cmp -s "$tmp/$f.orig" "$tmp/$f".[cd]* || fail "$*: $f changed"
    done
    [ -p "$tmp/fifo" ] && [ -d "$tmp/dir" ] && [ -c /dev/null ] || fail "$*: a target was replaced"
    n=$((n + 1))
}
n=0
same="same file as the input"
chr="is a character device"
for o in "$tmp/small.csv" "$tmp/hard.csv" "$tmp/soft.csv" "$tmp/./small.csv"; do
    # shellcheck disable=SC2086
    refused -o "$same" "$bin/dgn-train" "$tmp/small.csv" $train -o "$o"
done
# shellcheck disable=SC2086
refused -o "$same" "$bin/dgn-train" "$tmp/small.csv" $train --valid "$tmp/valid.csv" \
    -o "$tmp/valid.csv"
for o in /dev/null "$tmp/fifo" "$tmp/dir" "$tmp/none/m.dgn"; do
    case $o in /dev/null) want=$chr ;; *fifo) want="is a FIFO" ;; *dir) want="is a directory" ;;
        *) want="No such file or directory" ;; esac
    # shellcheck disable=SC2086
    refused -o "$want" "$bin/dgn-train" "$tmp/small.csv" $train -o "$o"
done
# On the whole bundled table, the refusal still comes before loading it.
# shellcheck disable=SC2086
refused -o "$chr" "$bin/dgn-train" "$src/data/sciglass_tg_wt.csv" $train -o /dev/null

refused -o "$same" "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" -o "$tmp/m.dgn"
refused -o "$same" "$bin/dgn-screen" "$tmp/m.dgn" --candidates "$tmp/cand.csv" -o "$tmp/cand.csv"
refused -o "$chr" "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" -o /dev/null
refused -o "is a FIFO" "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" -o "$tmp/fifo"
refused -o "is a directory" "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" -o "$tmp/dir"

paper="$bin/dgn-paper $tmp/small.csv --quick"
# shellcheck disable=SC2086
{
refused --csv "$same" $paper --csv "$tmp/small.csv" --markdown "$tmp/p.md"
refused --markdown "$same" $paper --csv "$tmp/p.csv" --markdown "$tmp/hard.csv"
refused --csv "$chr" $paper --csv /dev/full --markdown "$tmp/p.md"
refused --markdown "$chr" $paper --csv "$tmp/p.csv" --markdown /dev/null
refused --csv "is a FIFO" $paper --csv "$tmp/fifo" --markdown "$tmp/p.md"
refused --markdown "also the --csv file" $paper --csv "$tmp/p.csv" --markdown "$tmp/p.csv"
}
[ ! -e "$tmp/p.csv" ] && [ ! -e "$tmp/p.md" ] || fail "a refused dgn-paper wrote a file"
echo "$n bad outputs refused with exit 2 before any work, inputs intact"

# A write that fails keeps the previous file and leaves no temporary file.
entries() { ls -A "$tmp" | wc -l; }
# limited CMD...: run CMD with no file growth allowed (ulimit -f 0); its
# stderr goes through a pipe, which the limit does not cover, to $tmp/err.
limited() {
    { r=0; (ulimit -f 0; exec "$@" 2>&1 > /dev/null) || r=$?; echo "exit $r"; } \
        | cat > "$tmp/err"
    rc=$(tail -n 1 "$tmp/err" | sed 's/^exit //')
}
before=$(entries)
printf 'earlier results\n' > "$tmp/p.csv"
printf 'earlier report\n' > "$tmp/p.md"
# shellcheck disable=SC2086
limited $paper --csv "$tmp/p.csv" --markdown "$tmp/p.md"
[ "$rc" -eq 1 ] || fail "dgn-paper under ulimit -f 0: exit $rc: $(tail -n 1 "$tmp/err")"
grep -qF "$tmp/p.csv: cannot save (write failed" "$tmp/err" \
    || fail "dgn-paper under ulimit -f 0: $(tail -n 1 "$tmp/err")"
[ "$(cat "$tmp/p.csv")" = "earlier results" ] || fail "dgn-paper destroyed the previous CSV"
[ "$(cat "$tmp/p.md")" = "earlier report" ] || fail "dgn-paper destroyed the previous report"
# shellcheck disable=SC2086
limited "$bin/dgn-train" "$tmp/small.csv" $train -o "$tmp/m.dgn"
[ "$rc" -eq 1 ] || fail "dgn-train under ulimit -f 0: exit $rc: $(tail -n 1 "$tmp/err")"
grep -qF "$tmp/m.dgn: cannot save (write failed" "$tmp/err" || fail "dgn-train: $(cat "$tmp/err")"
cmp -s "$tmp/m.dgn" "$tmp/m.orig" || fail "dgn-train destroyed the previous model"
limited "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" -o "$tmp/p.csv"
[ "$rc" -eq 1 ] || fail "dgn-screen under ulimit -f 0: exit $rc: $(tail -n 1 "$tmp/err")"
grep -qF "$tmp/p.csv: cannot save (write failed" "$tmp/err" || fail "dgn-screen: $(cat "$tmp/err")"
[ "$(cat "$tmp/p.csv")" = "earlier results" ] || fail "dgn-screen destroyed the previous CSV"
[ "$(entries)" -eq $((before + 2)) ] || fail "temporary files left: $(ls -A "$tmp")"
echo "failed writes (ulimit -f 0) exit 1 and keep the previous files, no temporaries"

# Modes: an existing file keeps its own, a new one gets 0666 less the umask.
mode() { stat -c %a "$1"; }
chmod 644 "$tmp/p.csv"
"$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" -o "$tmp/p.csv" > /dev/null 2>&1
[ "$(mode "$tmp/p.csv")" = 644 ] || fail "dgn-screen: results mode $(mode "$tmp/p.csv"), wanted 644"
grep -q '^rank,index,score' "$tmp/p.csv" || fail "dgn-screen did not write its results"
(umask 027; exec "$bin/dgn-screen" "$tmp/m.dgn" --grid "$grid" -o "$tmp/new.csv") > /dev/null 2>&1
[ "$(mode "$tmp/new.csv")" = 640 ] || fail "new results mode $(mode "$tmp/new.csv"), wanted 640"
chmod 664 "$tmp/m.dgn"
# shellcheck disable=SC2086
"$bin/dgn-train" "$tmp/small.csv" $train -o "$tmp/soft-model" 2> /dev/null
[ "$(mode "$tmp/soft-model")" = 644 ] || fail "new model mode $(mode "$tmp/soft-model"), wanted 644"
ln -s m.dgn "$tmp/link.dgn"
# shellcheck disable=SC2086
"$bin/dgn-train" "$tmp/small.csv" $train --seed 3 -o "$tmp/link.dgn" 2> /dev/null
[ -L "$tmp/link.dgn" ] || fail "saving through a symbolic link replaced the link"
[ "$(mode "$tmp/m.dgn")" = 664 ] || fail "model mode $(mode "$tmp/m.dgn"), wanted 664 kept"
cmp -s "$tmp/m.dgn" "$tmp/m.orig" && fail "saving through the link did not update its file"
echo "modes kept (644, 664) or from the umask (640, 644); links kept"
echo "1 passed, 0 failed"
