"""Classical baselines on exactly libdgn's splits (written by dgn-bench split).

For each split given, fits KNN, random forest, SVM, decision tree and MLP on
standardised inputs (training statistics only) and scores the validation
rows: AUC and Precision@100, ranked like libdgn (score descending, ties by
row order). Appends CSV rows: split,lo,hi,model,auc,precision_at_100,seconds.
"""
import argparse
import csv
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier


def models(quick):
    return {
        "KNN": lambda: KNeighborsClassifier(n_neighbors=15),
        "RF": lambda: RandomForestClassifier(n_estimators=20 if quick else 200, n_jobs=-1,
                                             random_state=2024),
        "SVM": lambda: SVC(kernel="rbf", C=10, gamma="scale", cache_size=1000),
        "DT": lambda: DecisionTreeClassifier(min_samples_leaf=5, random_state=2024),
        "MLP": lambda: MLPClassifier(hidden_layer_sizes=(128, 64), max_iter=20 if quick else 200,
                                     early_stopping=True, random_state=2024),
    }


def load(path, lo, hi):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return data[:, :-1], ((data[:, -1] >= lo) & (data[:, -1] <= hi)).astype(int)


def precision_at(scores, labels, k=100):
    order = np.lexsort((np.arange(len(scores)), -scores))  # score desc, then row
    return labels[order[:k]].mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", required=True, help="dgn-bench split output prefix")
    ap.add_argument("--split", required=True, help="label for the CSV: random or group")
    ap.add_argument("--lo", type=float, required=True)
    ap.add_argument("--hi", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    xt, yt = load(a.prefix + "-train.csv", a.lo, a.hi)
    xv, yv = load(a.prefix + "-valid.csv", a.lo, a.hi)
    if a.quick:
        xt, yt = xt[:3000], yt[:3000]
    scaler = StandardScaler().fit(xt)
    xt, xv = scaler.transform(xt), scaler.transform(xv)
    with open(a.out, "a", newline="") as f:
        w = csv.writer(f)
        for name, make in models(a.quick).items():
            t0 = time.perf_counter()
            m = make().fit(xt, yt)
            s = m.decision_function(xv) if name == "SVM" else m.predict_proba(xv)[:, 1]
            secs = time.perf_counter() - t0
            auc, p = roc_auc_score(yv, s), precision_at(np.asarray(s), yv)
            w.writerow([a.split, a.lo, a.hi, name, f"{auc:.6f}", f"{p:.4f}", f"{secs:.1f}"])
            print(f"{a.split} {a.lo:g}-{a.hi:g} {name}: auc {auc:.4f} p@100 {p:.2f} "
                  f"({secs:.0f}s)", file=sys.stderr)


if __name__ == "__main__":
    main()
