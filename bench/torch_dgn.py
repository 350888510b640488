"""DeepGlassNet in PyTorch, as a fair comparator for libdgn's speed.

Same architecture and sizes as libdgn's defaults (d 32, rank 5, one head,
hidden 256, out 64, dropout 0.1), the same one-batch triplet step (anchors,
positives, negatives through the network together), the same tempered loss
and Adam. Idiomatic PyTorch: batched tensor operations, no Python loop over
samples; triplet sampling and augmentation are vectorised too.

Prints one JSON line: training triplets/s and screening candidates/s.

--threads caps every thread pool in the process: PyTorch's OpenMP pool and
the OpenBLAS that Debian's PyTorch calls for matrix products, which
otherwise uses every core whatever torch.set_num_threads says.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits


class DeepGlassNet(nn.Module):
    def __init__(self, n, d=32, f=5, h=256, k=64, dropout=0.1):
        super().__init__()
        self.n, self.d = n, d
        self.E = nn.Parameter(torch.empty(n, d))
        self.V = nn.Parameter(torch.empty(n, f))
        nn.init.xavier_uniform_(self.E)
        nn.init.xavier_uniform_(self.V)
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.head = nn.Sequential(nn.Linear(n * d, h, bias=False), nn.BatchNorm1d(h),
                                  nn.ReLU(), nn.Dropout(dropout), nn.Linear(h, k))

    def forward(self, x):                                   # x [B, n], z-scored
        h = x.unsqueeze(-1) * self.E                        # [B, n, d]
        vn = F.normalize(self.V, dim=-1)
        a = vn @ vn.T
        m = torch.eye(self.n) + (a - torch.diag(torch.diag(a))) / (self.n - 1)
        z = torch.matmul(m, h)                              # [B, n, d]
        q, k, v = self.q(z), self.k(z), self.v(z)
        p = torch.softmax(q @ k.transpose(1, 2) / self.d ** 0.5, dim=-1)
        u = (p @ v).flatten(1)                              # [B, n·d]
        return F.normalize(self.head(u), dim=-1)


def load(path, lo, hi):
    data = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=np.float32)
    x, y = data[:, :-1] / 100.0, data[:, -1]
    return x, ((y >= lo) & (y <= hi)).astype(np.int64)


# Untimed steps first, as many as dgn-bench's (WARMUP_STEPS there).
WARMUP_STEPS = 50


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--candidates", type=int, default=384941)
    ap.add_argument("--screen-batch", type=int, default=4096)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(limits=args.threads)
    pools = {p["internal_api"]: p["num_threads"] for p in threadpool_info()}
    torch.manual_seed(2024)

    x, y = load(args.data, 500, 600)
    mean, std = x.mean(0), x.std(0)
    std[std < 1e-12] = 1
    X = torch.from_numpy(x)
    Y = torch.from_numpy(y)
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)
    pos, neg = torch.nonzero(Y == 1).flatten(), torch.nonzero(Y == 0).flatten()
    model = DeepGlassNet(X.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sigma, tau, b = 0.05, 0.1, args.batch

    def step(anchors):
        lab = Y[anchors]
        same = torch.where(lab == 1, pos[torch.randint(len(pos), (b,))],
                           neg[torch.randint(len(neg), (b,))])
        other = torch.where(lab == 1, neg[torch.randint(len(neg), (b,))],
                            pos[torch.randint(len(pos), (b,))])
        rows = X[torch.cat([anchors, same, other])]
        rows = rows * (1 + sigma * torch.randn_like(rows))
        f = model((rows - mean_t) / std_t)
        fa, fp, fn = f[:b], f[b:2 * b], f[2 * b:]
        loss = -F.logsigmoid(((fa * fp).sum(-1) - (fa * fn).sum(-1)) / tau).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    model.train()
    order = torch.randperm(len(X))
    for s in range(WARMUP_STEPS):
        step(order[s * b:(s + 1) * b])
    t0 = time.perf_counter()
    for s in range(args.steps):
        i = (s % (len(X) // b - WARMUP_STEPS) + WARMUP_STEPS) * b
        step(order[i:i + b])
    train_s = time.perf_counter() - t0

    # Screening: score candidate compositions against a class centre.
    model.eval()
    rng = np.random.default_rng(2024)
    cand = rng.dirichlet(np.ones(X.shape[1]), size=args.candidates).astype(np.float32)
    C = torch.from_numpy(cand)
    with torch.no_grad():
        centre = model((X[pos[:1000]] - mean_t) / std_t).mean(0)
        model((C[:args.screen_batch] - mean_t) / std_t)      # warm-up
        t1 = time.perf_counter()
        best = torch.empty(0)
        for i in range(0, len(C), args.screen_batch):
            s = model((C[i:i + args.screen_batch] - mean_t) / std_t) @ centre
            best = torch.cat([best, s]).topk(min(100, len(best) + len(s))).values
        screen_s = time.perf_counter() - t1
    print(json.dumps({"threads": args.threads, "train_triplets": args.steps * b,
                      "train_seconds": train_s,
                      "train_triplets_per_s": args.steps * b / train_s,
                      "candidates": args.candidates, "screen_seconds": screen_s,
                      "screen_candidates_per_s": args.candidates / screen_s,
                      "torch": torch.__version__, "thread_pools": pools}))


if __name__ == "__main__":
    main()
