"""Scoring rules on a trained model's features, judged on validation rows.

A model ranks rows by a score computed from its features f (an ensemble's
members side by side, as `dgn-bench encode` writes them, so that an inner
product is the sum of the members'). The rules:

  centre     <f, c1>, c1 the training targets' mean feature (the paper)
  contrast   <f, c1 - c0>, c0 the other training rows' (the default)
  knnK       the share of targets among the K training rows with the
             largest <f, f'>, ties broken by the contrast score
  near5      the contrast score over its standard deviation on the
             training rows, plus the share of targets among the 5 training
             rows nearest in composition (Euclidean, z-scored by the
             training rows' mean and standard deviation): needs the
             training compositions, not their features

Each rule scores the validation rows (where a choice between rules is
made) and the test rows (reported, used for no choice), by AUC and
Precision@100.

  bench/scores.py --bin BUILD --work WORK [--out study.csv]

reads every model WORK/PREFIX-N.dgn that bench/quality.py left beside its
split files PREFIX-{train,valid,test}.csv (PREFIX = KIND-LO-HI-SPLIT-SS,
N the network seed), so that the rules are studied on a finished run's
models without training again, and prints each rule's means over the
narrow (at most 20 degrees wide), the wider and the other tasks.
`bench/quality.py --study-scores` runs the same study as it trains.
"""
import argparse
import csv
import glob
import os
import re
import subprocess
import sys

import numpy as np
from sklearn.metrics import roc_auc_score

NEIGHBOURS = (5, 15, 50)


def precision_at(scores, labels, k=100):
    order = np.lexsort((np.arange(len(scores)), -scores))  # score desc, then row
    return float(labels[order[:k]].mean())


def run(cmd):
    """cmd's standard output; the script stops with cmd's error if it fails."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"{os.path.basename(sys.argv[0])}: {' '.join(cmd)} failed:\n"
                 f"{r.stderr[-2000:]}")
    return r.stdout


def write_csv(path, rows):
    """rows (dicts with the same keys) into path, which is replaced whole."""
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(path + ".tmp", path)


def encode(bench, data, model, out):
    """(labels, the model's score, features) of every row of data."""
    run([bench, "encode", data, model, out])
    d = np.loadtxt(out, delimiter=",", ndmin=2)
    return d[:, 0].astype(int), d[:, 1], d[:, 2:]


def nearest_share(xt, x, y, k):
    """The share of targets among the k rows of x nearest to each row of xt."""
    out, xx = np.empty(len(xt)), (x * x).sum(1)
    for a in range(0, len(xt), 1024):
        d = xx - 2 * xt[a:a + 1024] @ x.T  # the squared distance, less |xt|²
        out[a:a + 1024] = y[np.argpartition(d, k, axis=1)[:, :k]].mean(1)
    return out


def rules(ft, f, y, xt, x):
    """Every rule's scores of the rows ft (compositions xt), from the
    training rows' f, y and compositions x."""
    c1, c0 = f[y == 1].mean(0), f[y == 0].mean(0)
    contrast = ft @ (c1 - c0)
    out = {"centre": ft @ c1, "contrast": contrast}
    share = {k: np.empty(len(ft)) for k in NEIGHBOURS}
    for a in range(0, len(ft), 1024):  # a block of rows' similarities at a time
        sim = ft[a:a + 1024] @ f.T
        top = np.argpartition(-sim, max(NEIGHBOURS), axis=1)[:, :max(NEIGHBOURS)]
        order = np.take_along_axis(
            top, np.argsort(-np.take_along_axis(sim, top, axis=1), axis=1), axis=1)
        for k in NEIGHBOURS:
            share[k][a:a + 1024] = y[order[:, :k]].mean(1)
    span = np.ptp(contrast) or 1.0
    for k in NEIGHBOURS:
        # A share moves in steps of 1/k; the contrast, scaled below one
        # step, orders the rows within a step.
        out[f"knn{k}"] = share[k] + (contrast - contrast.min()) / span / (2 * k)
    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    z, zt = (x - mu) / sd, (xt - mu) / sd
    out["near5"] = contrast / (f @ (c1 - c0)).std() + nearest_share(zt, z, y, 5)
    return out


def study(pre, ns, model, bench):
    """One model's rows: each rule's validation and test AUC and P@100."""
    parts = {}
    for part in ("train", "valid", "test"):
        parts[part] = encode(bench, f"{pre}-{part}.csv", model,
                             f"{pre}-{ns}-rules-{part}.csv")
    y, _, f = parts["train"]
    (yv, _, fv), (yt, _, ft) = parts["valid"], parts["test"]
    x, xv, xt = (np.loadtxt(f"{pre}-{part}.csv", delimiter=",", skiprows=1, ndmin=2)[:, :-1]
                 for part in ("train", "valid", "test"))
    valid, test = rules(fv, f, y, xv, x), rules(ft, f, y, xt, x)
    return [dict(rule=r, valid_auc=roc_auc_score(yv, valid[r]),
                 valid_p100=precision_at(valid[r], yv),
                 test_auc=roc_auc_score(yt, test[r]), test_p100=precision_at(test[r], yt))
            for r in valid]


def family(lo, hi):
    if hi - lo <= 20:
        return "narrow"
    return "wider" if hi - lo <= 100 and lo >= 300 else "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the build directory")
    ap.add_argument("--work", required=True, help="bench/quality.py's work directory")
    ap.add_argument("--out", help="the CSV to write (WORK/study.csv)")
    a = ap.parse_args()
    bench = os.path.join(a.bin, "bench", "dgn-bench")
    name = re.compile(r"(.*)-([0-9.e+]+)-([0-9.e+]+)-(group|random)-([0-9]+)-([0-9]+)\.dgn$")
    rows = []
    for model in sorted(glob.glob(os.path.join(a.work, "*.dgn"))):
        m = name.match(os.path.basename(model))
        if not m:
            continue
        kind, lo, hi, split, ss, ns = m.groups()
        pre = model[:-len(f"-{ns}.dgn")]
        res = study(pre, ns, model, bench)
        rows += [dict(table=kind, lo=lo, hi=hi, split=split, split_seed=ss, seed=ns,
                      family=family(float(lo), float(hi)), **r) for r in res]
        print(f"{os.path.basename(model)}, validation AUC/P@100: " + ", ".join(
            f"{r['rule']} {r['valid_auc']:.4f}/{r['valid_p100']:.2f}" for r in res),
            file=sys.stderr, flush=True)
    if not rows:
        sys.exit(f"scores.py: no model named KIND-LO-HI-SPLIT-SS-N.dgn in {a.work}")
    write_csv(a.out or os.path.join(a.work, "study.csv"), rows)
    keys = ("valid_auc", "valid_p100", "test_auc", "test_p100")
    print("| tasks | models | rule | " + " | ".join(keys) + " |")
    print("|---|---|---|" + "---|" * len(keys))
    for fam in ("narrow", "wider", "other"):
        for rule in dict.fromkeys(r["rule"] for r in rows):
            v = [r for r in rows if r["family"] == fam and r["rule"] == rule]
            if v:
                print(f"| {fam} | {len(v)} | {rule} | "
                      + " | ".join(f"{np.mean([r[k] for r in v]):.4f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
