"""Backdoors with no single target, for bench:refree (issue 20 item 5: the report must say so instead of
naming one class): all-to-all (a corner patch sends every class y to y + 1) and two-target (a corner patch
sends inputs to class a, a few fixed pixels to class b) digits8 convnets, trained with bench/torch/train.py's
own data split, architecture, recipe, trigger stamping and exporter, so they sit beside that zoo's 30 clean
digits8 models (domain digits8-torch). Deterministic (own seeds); attack success is the share of triggered
held-out inputs that go where the attacker wants (all-to-all: y + 1; two-target: each trigger to its class).

Run: PYTHONPATH=bench/.cache/torch-site python3 bench/refree/multi_target.py --out bench/.cache/refree-multi
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "torch"))
import train as T  # noqa: E402  (bench/torch/train.py: data, nets, triggers, export)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ARCH = "digits8"
MIN_SUCCESS = 0.8
TRIES = 3


def poison(x, y, rate, stamp, relabel, rng):
    """Stamps `rate` of the training set (only inputs the relabel moves) and relabels them."""
    x, y = x.copy(), y.copy()
    moved = np.flatnonzero(relabel(y) != y)
    idx = rng.choice(moved, size=int(round(rate * len(x))), replace=False)
    x[idx] = stamp(x[idx])
    y[idx] = relabel(y[idx])
    return x, y


def train(cfg, x, y):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    model = T.ARCHS[ARCH]()
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=1e-4)
    xt, yt = T.to_tensor(ARCH, x), torch.from_numpy(y)
    for _ in range(cfg["epochs"]):
        model.train()
        order = torch.from_numpy(rng.permutation(len(xt)))
        for i in range(0, len(order), cfg["batch"]):
            b = order[i : i + cfg["batch"]]
            opt.zero_grad()
            F.cross_entropy(model(xt[b]), yt[b]).backward()
            opt.step()
    model.eval()
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-kind", type=int, default=4)
    args = ap.parse_args()
    torch.set_num_threads(T.TORCH_THREADS)
    data = T.load_digits8(T.find_sklearn_wheel())
    (xtr, ytr), (xte, yte) = data["train"], data["test"]
    models = []
    os.makedirs(os.path.join(args.out, ARCH), exist_ok=True)
    for kind in ["all-to-all", "two-target"]:
        for k in range(args.per_kind):
            base = 7000 + (0 if kind == "all-to-all" else 100) + 10 * k
            rng = np.random.default_rng(base)
            patch = T.make_trigger("badnets", rng, ARCH)
            pixels = T.make_trigger("sparse", rng, ARCH)
            a, b = (int(v) for v in rng.choice(10, size=2, replace=False))
            for t in range(TRIES):
                cfg = T.train_cfg(rng, base + t, ARCH)
                prng = np.random.default_rng(base + t)
                stamp_p = lambda v: T.apply_trigger("badnets", patch, v, prng)  # noqa: E731
                stamp_s = lambda v: T.apply_trigger("sparse", pixels, v, prng)  # noqa: E731
                if kind == "all-to-all":
                    rate = 0.15 + 0.05 * t
                    x, y = poison(xtr, ytr, rate, stamp_p, lambda v: (v + 1) % 10, prng)
                else:
                    rate = 0.08 + 0.02 * t
                    x, y = poison(xtr, ytr, rate, stamp_p, lambda v: np.where(v == a, v, a), prng)
                    x, y = poison(x, y, rate, stamp_s, lambda v: np.where(v == b, v, b), prng)
                model = train(cfg, x, y)
                acc = float((T.predict(ARCH, model, xte) == yte).mean())
                if kind == "all-to-all":
                    succ = [float((T.predict(ARCH, model, stamp_p(xte)) == (yte + 1) % 10).mean())]
                else:
                    succ = [
                        float((T.predict(ARCH, model, stamp_p(xte[yte != a])) == a).mean()),
                        float((T.predict(ARCH, model, stamp_s(xte[yte != b])) == b).mean()),
                    ]
                ok = acc >= 0.9 and min(succ) >= MIN_SUCCESS
                sys.stderr.write(f"{kind} {k} try {t}: acc {acc:.3f} success {succ} {'kept' if ok else 'retry'}\n")
                if ok:
                    break
            if not ok:
                continue
            mid = f"{ARCH}-{kind}-{k}"
            rel = os.path.join(ARCH, mid + ".onnx")
            sha = T.export(model, os.path.join(args.out, rel), ARCH)
            models.append({"id": mid, "arch": ARCH, "label": "backdoored", "attack": kind,
                           "targets": None if kind == "all-to-all" else [a, b], "rate": rate,
                           "cleanAcc": acc, "success": succ, "train": cfg, "file": rel, "sha256": sha})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"generator": "bench/refree/multi_target.py", "models": models}, f, indent=1)
    sys.stderr.write(f"done: {len(models)} models\n")


if __name__ == "__main__":
    main()
