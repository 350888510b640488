#!/bin/sh
# --json output is valid JSON on every line (RFC 8259), with a quote, a
# backslash and a tab in the model's path and a quote and a backslash in a
# component name, and null where a metric is undefined (no validation
# rows; dgn-eval's data always has both classes, or the load fails).
# Usage: json.sh EXAMPLES_DIR DATA.csv
set -eu
bin=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
parse_all() { "$py" -c 'import json,sys; [json.loads(l) for l in sys.stdin]'; }

# "W% SiO2" renamed W% Si"O2\x (CSV-quoted in the header).
head -n 1001 "$data" | sed '1s/W% SiO2/"W% Si""O2\\x"/' > "$tmp/q.csv"
dir=$(printf '%s/a"b\\c\td' "$tmp")
mkdir "$dir"
model=$dir/m.dgn

"$bin/dgn-train" "$tmp/q.csv" --lo 500 --hi 600 --epochs 2 --json -o "$model" \
    > "$tmp/train.json" 2> /dev/null || fail "dgn-train --json"
parse_all < "$tmp/train.json" || fail "dgn-train --json is not JSON: $(cat "$tmp/train.json")"
DIR="$dir" "$py" -c 'import json,os,sys
last = json.loads(sys.stdin.readlines()[-1])
assert last["model"] == os.environ["DIR"] + "/m.dgn", last["model"]' < "$tmp/train.json" \
    || fail "dgn-train --json: the model path does not round-trip"

# No validation rows: the AUC and P@k are undefined, so null.
"$bin/dgn-train" "$tmp/q.csv" --lo 500 --hi 600 --epochs 1 --valid-fraction 0 --json \
    -o "$tmp/m0.dgn" > "$tmp/novalid.json" 2> /dev/null || fail "dgn-train --valid-fraction 0"
parse_all < "$tmp/novalid.json" || fail "not JSON: $(cat "$tmp/novalid.json")"
"$py" -c 'import json,sys
for l in sys.stdin:
    o = json.loads(l)
    assert o["auc"] is None and o["precision_at_k"] is None, o' < "$tmp/novalid.json" \
    || fail "undefined metrics are not null: $(cat "$tmp/novalid.json")"

# dgn-eval: the same model through its own --json.
"$bin/dgn-eval" "$model" "$tmp/q.csv" --json > "$tmp/eval.json" 2> /dev/null \
    || fail "dgn-eval --json"
parse_all < "$tmp/eval.json" || fail "dgn-eval --json is not JSON: $(cat "$tmp/eval.json")"

# dgn-screen: the component name with a quote and a backslash, escaped.
"$bin/dgn-screen" "$model" --grid 'step=10, Si"O2\x=40:80, Na2O=0:30, CaO' --top 5 --json \
    > "$tmp/screen.json" 2> /dev/null || fail "dgn-screen --json"
parse_all < "$tmp/screen.json" || fail "dgn-screen --json is not JSON: $(cat "$tmp/screen.json")"
"$py" -c 'import json,sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 5 and all("W% Si\"O2\\x" in r["percent"] for r in rows), rows' \
    < "$tmp/screen.json" || fail "dgn-screen --json names: $(cat "$tmp/screen.json")"
# Every program's summary says what ran its arithmetic.
"$py" -c 'import json,sys
for path in sys.argv[1:]:
    o = json.loads(open(path).readlines()[-1])
    r = o["runtime"]
    assert r["blas"] == "none" and r["kernels"] in ("AVX-512", "AVX2+FMA", "portable"), (path, o)
    assert r["cpu_best"] and r["libdgn"], (path, o)' \
    "$tmp/train.json" "$tmp/eval.json" "$tmp/screen.json" || fail "--json lacks the runtime"
# An ensemble: its members' lines, its last line, dgn-eval's and
# dgn-screen's extra fields, all JSON; no validation rows give nulls.
"$bin/dgn-train" "$tmp/q.csv" --lo 500 --hi 600 --epochs 1 --valid-fraction 0 --ensemble 2 \
    --json -o "$dir/e.dgn" > "$tmp/ens.json" 2> /dev/null || fail "dgn-train --ensemble 2"
"$bin/dgn-eval" "$dir/e.dgn" "$tmp/q.csv" --json >> "$tmp/ens.json" 2> /dev/null \
    || fail "dgn-eval of an ensemble"
"$bin/dgn-screen" "$dir/e.dgn" --grid 'step=10, Si"O2\x=40:80, Na2O=0:30, CaO' --top 3 \
    --json >> "$tmp/ens.json" 2> /dev/null || fail "dgn-screen of an ensemble"
DIR="$dir" "$py" -c 'import json,os,sys
rows = [json.loads(l) for l in sys.stdin]
last = [r for r in rows if "members" in r and "model" in r][0]
assert last["members"] == 2 and last["auc"] is None and last["model"] == os.environ["DIR"] + "/e.dgn", last
assert [r["member"] for r in rows if "seed" in r] == [0, 1], rows
ev = [r for r in rows if "positives" in r][0]
assert ev["members"] == 2 and ev["member_auc_min"] <= ev["auc"] + 1 and ev["mean_spread"] >= 0, ev
sc = [r for r in rows if "rank" in r]
assert len(sc) == 3 and all(r["spread"] >= 0 for r in sc), sc' < "$tmp/ens.json" \
    || fail "ensemble --json: $(cat "$tmp/ens.json")"
echo "every --json line parses; paths and names round-trip; undefined metrics are null"
echo "1 passed, 0 failed"
