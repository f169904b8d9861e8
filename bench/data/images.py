"""Real image data for the PyTorch benches, as numpy arrays in [0,1], prepared once into a cache folder.

The PyTorch benches' view of real data beyond MNIST (bench:families): each dataset is read from where this
machine has it and written to `<cache>/<name>.npz` (uint8 images [N,C,H,W], int64 labels, plus the split it
came from), so later runs read one file.

  fashion-mnist  Debian's `dataset-fashion-mnist` (apt-get install -y dataset-fashion-mnist): the IDX files in
                 /usr/share/datasets/fashion-mnist; 60,000 train + 10,000 test, 28x28 grey, 10 classes.
  gtsrb32        the German Traffic Sign Recognition Benchmark (43 classes) at 32x32 RGB, read from the arrays
                 bench/data/build.ts writes (`npm run bench:data -- --dataset gtsrb`; bench/data/README.md has the
                 source, licence and rebuild): the project's one 32x32 RGB loader, shared with bench:realsize.
                 Its 128 probe images (never trained or evaluated on) are split 2.

Run: python3 bench/data/images.py [--cache /work/cache/data] NAME...
Library: from images import load; d = load("gtsrb32", cache_dir) -> {"x": uint8, "y": int64, "split": [...], ...}
"""

import argparse
import gzip
import json
import os
import sys

import numpy as np

DEFAULT_CACHE = os.environ.get("FAMILIES_DATA_CACHE", "/work/cache/data")
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def _idx(path):
    """An IDX file (gzip): uint8 images [n,rows,cols] or labels [n]."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def prepare_fashion_mnist():
    parts = {}
    for split, stem in (("train", "train"), ("test", "t10k")):
        x = _idx(os.path.join(FASHION_DIR, f"{stem}-images-idx3-ubyte.gz"))
        y = _idx(os.path.join(FASHION_DIR, f"{stem}-labels-idx1-ubyte.gz"))
        parts[split] = (x[:, None], y.astype(np.int64))
    x = np.concatenate([parts["train"][0], parts["test"][0]])
    y = np.concatenate([parts["train"][1], parts["test"][1]])
    split = np.array([0] * len(parts["train"][1]) + [1] * len(parts["test"][1]), dtype=np.int8)
    return {"x": x, "y": y, "split": split, "track": np.arange(len(y), dtype=np.int64),
            "source": f"Debian dataset-fashion-mnist ({FASHION_DIR})", "classes": 10}


def prepare_gtsrb32(cache_dir):
    """GTSRB as bench/data/build.ts (`npm run bench:data -- --dataset gtsrb`) writes it: the one 32x32 RGB
    loader of the project; this only reads its arrays (HWC uint8) into this module's layout."""
    d = os.path.join(cache_dir, "gtsrb")
    if not os.path.exists(os.path.join(d, "train-x.npy")):
        sys.exit(f"images.py: gtsrb32 reads the arrays of `npm run bench:data -- --dataset gtsrb --out {cache_dir}` "
                 f"(bench/data/README.md); {d}/train-x.npy is missing")
    parts = [(np.load(os.path.join(d, f"{k}-x.npy")), np.load(os.path.join(d, f"{k}-y.npy"))) for k in ("train", "test", "probe")]
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    x = np.concatenate([p[0] for p in parts]).transpose(0, 3, 1, 2)
    y = np.concatenate([p[1] for p in parts]).astype(np.int64)
    split = np.concatenate([np.full(len(p[1]), i, dtype=np.int8) for i, p in enumerate(parts)])
    src = meta["source"]
    return {"x": np.ascontiguousarray(x), "y": y, "split": split, "track": np.arange(len(y), dtype=np.int64),
            "source": f"GTSRB via bench/data/build.ts (github:{src['repo']} at {src['commit'][:12]}: the official images "
                      f"resized to 35x35 by that repository, area-averaged to 32x32; its 128 probe images are the samples)",
            "classes": len(meta["classes"])}


PREPARERS = {"fashion-mnist": lambda cache: prepare_fashion_mnist(), "gtsrb32": prepare_gtsrb32}


def load(name, cache_dir=DEFAULT_CACHE):
    """The dataset as a dict (x uint8 [N,C,H,W], y int64, split 0=train 1=test 2=held-out probe samples where
    the source names them, track, source, classes), prepared and cached on first use."""
    path = os.path.join(cache_dir, f"{name}.npz")
    if not os.path.exists(path):
        d = PREPARERS[name](cache_dir)
        os.makedirs(cache_dir, exist_ok=True)
        tmp = path + ".tmp.npz"
        np.savez_compressed(tmp, **{k: (np.asarray(v) if not isinstance(v, str) else np.asarray(v)) for k, v in d.items()})
        os.replace(tmp, path)
    z = np.load(path)
    return {"x": z["x"], "y": z["y"], "split": z["split"], "track": z["track"], "source": str(z["source"]),
            "classes": int(z["classes"])}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("names", nargs="+", choices=sorted(PREPARERS))
    a = ap.parse_args()
    for n in a.names:
        d = load(n, a.cache)
        counts = np.bincount(d["y"], minlength=d["classes"])
        print(f"{n}: x {d['x'].shape} {d['x'].dtype}, train {int((d['split'] == 0).sum())}, "
              f"test {int((d['split'] == 1).sum())}, classes {d['classes']} (per class {counts.min()}-{counts.max()})")
