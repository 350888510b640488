"""The development suite: DeepGlassNet against RF, MLP and KNN on test rows.

Every task is a table and a target range. Each split seed cuts the table
into training (60 %), validation (20 %) and test (20 %) rows with
`dgn-bench split`, by whole compositions (group) or by rows (random); the
test rows are scored by every model and used for no choice. DeepGlassNet
is `dgn-train` with the library's defaults (plus --dgn-args) and one run
per network seed; its validation split picks the epoch. The baselines fit
the training rows only (RF 200 trees, MLP 128-64 with early stopping on its
own holdout, KNN k = 15, on standardised inputs), one fit per network seed
(their random_state).
"DGN xK" is the mean score of the K network seeds' models on each test row
(its valid_auc, the same mean on the validation rows, is the one to choose
by).
Network seed s trains with dgn-train --seed 100 + 10·s, so that the members
of its default ensemble (seeds 100 + 10·s, +1, +2) are never another
network seed's. (Runs before this version used 100 + s.)
With --dgn-args "--ensemble K" each DGN run is itself an ensemble of K
networks in one file (dgn-train --ensemble), scored by `dgn-bench encode`
by the members' mean; its row reports the ensemble's test numbers.

--jobs J runs J units (a task on a split seed) at once, each dgn-train at
--threads; the CSV is the same at any J, but the seconds column then counts
time shared with the other units.

Writes OUT/quality.csv (one line per task, split seed, model and seed) and
OUT/quality.md (mean and sd over all split and network seeds); prints
the markdown.
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import scores
from scores import precision_at, run, write_csv

DATA = "data/sciglass_tg_wt.csv"
PAPER = [(300, 400), (400, 500), (500, 600), (600, 700),
         (400, 450), (450, 500), (500, 550), (550, 600),
         (500, 520), (520, 540), (540, 560), (560, 580),
         (500, 510), (510, 520), (520, 530), (530, 540)]


def tasks(quick):
    """(name, table kind, lo, hi, splits); table kinds are made by table()."""
    if quick:
        return [("paper 500-600", "full", 500, 600, ["group"]),
                ("rows 2k 500-600", "rows2000", 500, 600, ["group"])]
    out = [(f"paper {lo}-{hi}", "full", lo, hi, ["group", "random"]) for lo, hi in PAPER]
    out += [(f"rows {n // 1000}k 500-600", f"rows{n}", 500, 600, ["group"])
            for n in (2000, 5000, 10000)]
    out += [("tail below 350", "full", 0, 350, ["group"]),
            ("tail above 700", "full", 700, 1e6, ["group"]),
            ("fractions shuffled 500-600", "shuffled", 500, 600, ["group"])]
    return out


def table(kind, work, quick):
    """The CSV of a table kind, written once into work/."""
    path = os.path.join(work, f"table-{kind}.csv")
    if os.path.exists(path):
        return path
    with open(DATA) as f:
        header = f.readline().rstrip("\n").split(",")
    rows = np.loadtxt(DATA, delimiter=",", skiprows=1, ndmin=2)
    if quick:
        rows = rows[np.random.default_rng(7).permutation(len(rows))[:4000]]
    if kind.startswith("rows"):
        n = int(kind[4:])
        rows = rows[np.random.default_rng(n).permutation(len(rows))[:n]]
    elif kind == "shuffled":
        # Fractions instead of percents, the component columns reordered.
        order = np.random.default_rng(3).permutation(len(header) - 1)
        comp = rows[:, :-1] / 100.0
        rows = np.column_stack([comp[:, order], rows[:, -1]])
        header = [header[j].replace("W% ", "w ") for j in order] + [header[-1]]
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(f"{v:.10g}" for v in r) + "\n")
    return path


def load(path, lo, hi):
    d = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return d[:, :-1], ((d[:, -1] >= lo) & (d[:, -1] <= hi)).astype(int)


def baselines(quick, seed):
    return {
        "RF": lambda: RandomForestClassifier(n_estimators=20 if quick else 200, n_jobs=-1,
                                             random_state=seed),
        "MLP": lambda: MLPClassifier(hidden_layer_sizes=(128, 64),
                                     max_iter=20 if quick else 200, early_stopping=True,
                                     random_state=seed),
        "KNN": lambda: KNeighborsClassifier(n_neighbors=15),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the build directory")
    ap.add_argument("--out", required=True, help="where quality.csv and quality.md go")
    ap.add_argument("--work", help="where the split files and models go (OUT/work)")
    ap.add_argument("--split-seeds", type=int, default=1)
    ap.add_argument("--first-split-seed", type=int, default=1,
                    help="run split seeds FIRST .. FIRST+N-1, so that a long run can "
                         "be cut in parts whose CSVs are joined")
    ap.add_argument("--net-seeds", type=int, default=1)
    ap.add_argument("--first-net-seed", type=int, default=1,
                    help="run network seeds FIRST .. FIRST+N-1, as --first-split-seed")
    ap.add_argument("--only", default="", help="comma-separated task name prefixes")
    ap.add_argument("--splits", default="group,random", help="which splits to run")
    ap.add_argument("--dgn-args", default="", help="extra dgn-train options")
    ap.add_argument("--threads", type=int, default=2, help="dgn-train --threads")
    ap.add_argument("--jobs", type=int, default=1,
                    help="units (a task on a split seed) run at once; with J jobs give "
                         "each --threads cores/J: one-thread runs side by side use the "
                         "cores better than one run on all of them")
    ap.add_argument("--study-scores", action="store_true",
                    help="also score each model's validation and test rows by the rules "
                         "of bench/scores.py, into OUT/study.csv")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    work = a.work or os.path.join(a.out, "work")
    os.makedirs(work, exist_ok=True)
    bench = os.path.join(a.bin, "bench", "dgn-bench")
    train = os.path.join(a.bin, "examples", "dgn-train")
    extra = a.dgn_args.split()
    if a.quick:
        extra += ["--epochs", "3"]
    # The units of work, in the suite's order; each table is written here,
    # once, before any unit reads it.
    units = []
    for name, kind, lo, hi, splits in tasks(a.quick):
        # Prefixes may spell a space as "-": --only paper-300-400,rows
        if a.only and not any(name.replace(" ", "-").startswith(p.replace(" ", "-"))
                              for p in a.only.split(",")):
            continue
        src = table(kind, work, a.quick)
        for split in [x for x in splits if x in a.splits.split(",")]:
            for ss in range(a.first_split_seed, a.first_split_seed + a.split_seeds):
                units.append((name, kind, lo, hi, split, ss, src))
    rows, studies = [], []
    start = time.time()
    pool = ThreadPoolExecutor(max_workers=a.jobs)
    try:
        futures = [pool.submit(unit, a, work, bench, train, extra, *u) for u in units]
        # Joined in order, so that the CSV's rows are the same at any --jobs.
        for fut in futures:
            r, st, message = fut.result()
            rows += r
            studies += st
            print(message, file=sys.stderr, flush=True)
            # After every unit, so that a long run stopped part-way keeps
            # what it finished.
            write_csv(os.path.join(a.out, "quality.csv"), rows)
            if studies:
                write_csv(os.path.join(a.out, "study.csv"), studies)
    finally:
        pool.shutdown(cancel_futures=True)
    md = summary(rows, a, time.time() - start)
    with open(os.path.join(a.out, "quality.md"), "w") as f:
        f.write(md)
    print(md)


def unit(a, work, bench, train, extra, name, kind, lo, hi, split, ss, src):
    """One task on one split seed: the split, every network seed's DGN run
    and the baselines. Returns (CSV rows, study rows, a line of progress)."""
    rows, studies = [], []
    pre = os.path.join(work, f"{kind}-{lo:g}-{hi:g}-{split}-{ss}")
    cmd = [bench, "split", src, "--lo", str(lo), "--hi", str(hi), "--seed",
           str(ss), "--test-fraction", "0.2"]
    run(cmd + (["--group-split"] if split == "group" else []) + [pre])
    X, y = load(pre + "-train.csv", lo, hi)
    Xt, yt = load(pre + "-test.csv", lo, hi)
    scaler = StandardScaler().fit(X)
    ens, ens_valid = [], []
    yv = load(pre + "-valid.csv", lo, hi)[1]
    for ns in range(a.first_net_seed, a.first_net_seed + a.net_seeds):
        t0 = time.time()
        model = f"{pre}-{ns}.dgn"
        out = run([train, pre + "-train.csv", "--lo", str(lo), "--hi", str(hi),
                   "--valid", pre + "-valid.csv", "--test", pre + "-test.csv",
                   "-o", model, "--seed", str(100 + 10 * ns), "--threads",
                   str(a.threads), "--json"] + extra)
        final = json.loads(out.strip().splitlines()[-1])
        enc = pre + f"-{ns}-enc.csv"
        run([bench, "encode", pre + "-test.csv", model, enc])
        e = np.loadtxt(enc, delimiter=",", ndmin=2)
        assert (e[:, 0].astype(int) == yt).all(), "test rows out of step"
        ens.append(e[:, 1])
        # The validation rows too, so that "DGN xK" is judged, as a
        # choice, on rows that are not the reported ones.
        venc = pre + f"-{ns}-valid-enc.csv"
        run([bench, "encode", pre + "-valid.csv", model, venc])
        ens_valid.append(np.loadtxt(venc, delimiter=",", ndmin=2)[:, 1])
        if a.study_scores:
            studies += [dict(task=name, split=split, split_seed=ss, seed=ns, **r)
                        for r in scores.study(pre, ns, model, bench)]
        rows.append(dict(task=name, split=split, split_seed=ss, model="DGN",
                         seed=ns, valid_auc=final["auc"],
                         auc=final["test_auc"],
                         p100=final["test_precision_at_k"],
                         seconds=round(time.time() - t0, 1)))
        for bname, make in baselines(a.quick, ns).items():
            if bname == "KNN" and ns > 1:
                continue  # deterministic: network seed 1's fit stands for all
            t0 = time.time()
            clf = make().fit(scaler.transform(X), y)
            s = clf.predict_proba(scaler.transform(Xt))[:, 1]
            rows.append(dict(task=name, split=split, split_seed=ss,
                             model=bname, seed=ns, valid_auc="",
                             auc=roc_auc_score(yt, s),
                             p100=precision_at(s, yt),
                             seconds=round(time.time() - t0, 1)))
    if len(ens) > 1:
        s = np.mean(ens, axis=0)
        rows.append(dict(task=name, split=split, split_seed=ss,
                         model=f"DGN x{len(ens)}", seed=0,
                         valid_auc=roc_auc_score(yv, np.mean(ens_valid, axis=0)),
                         auc=roc_auc_score(yt, s), p100=precision_at(s, yt),
                         seconds=0))
    message = (f"{name} {split} split {ss}: "
               + ", ".join(f"{r['model']} {r['auc']:.4f}" for r in rows
                           if r["seed"] <= a.first_net_seed))
    return rows, studies, message


def summary(rows, a, seconds):
    models = []
    for r in rows:
        if r["model"] not in models:
            models.append(r["model"])
    keys = []
    for r in rows:
        if (r["task"], r["split"]) not in keys:
            keys.append((r["task"], r["split"]))
    def count(n, first):
        return f"{n}" if first == 1 else f"{n} (from {first})"
    lines = [f"Test AUC / P@100, mean ± sd over {count(a.split_seeds, a.first_split_seed)} "
             f"split seed(s) × {count(a.net_seeds, a.first_net_seed)} network seed(s); "
             f"`{' '.join(sys.argv)}` "
             f"({seconds / 60:.0f} min).", "",
             "| task | split | " + " | ".join(models) + " |",
             "|---|---|" + "---|" * len(models)]
    means = {}
    for task, split in keys:
        cells = []
        for m in models:
            v = [(r["auc"], r["p100"]) for r in rows
                 if r["task"] == task and r["split"] == split and r["model"] == m]
            if not v:
                cells.append("")
                continue
            auc = np.array([x[0] for x in v])
            p = np.array([x[1] for x in v])
            means[(task, split, m)] = auc.mean()
            sd = f" ± {auc.std(ddof=1):.4f}" if len(v) > 1 else ""
            cells.append(f"{auc.mean():.4f}{sd} / {p.mean():.2f}")
        lines.append(f"| {task} | {split} | " + " | ".join(cells) + " |")
    paper = [(t, s) for t, s in keys if t.startswith("paper") and s == "group"]
    if paper:
        dgn = "DGN" if "DGN x" not in " ".join(models) else \
            [m for m in models if m.startswith("DGN x")][0]
        for ref in ("RF", "MLP"):
            d = [means[(t, s, dgn)] - means[(t, s, ref)] for t, s in paper]
            lines += ["", f"{dgn} against {ref} on the paper's intervals, group split: "
                      f"at least {ref}'s AUC on {sum(x >= 0 for x in d)} of {len(d)}; "
                      f"worst {min(d):+.4f}, mean {np.mean(d):+.4f}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
