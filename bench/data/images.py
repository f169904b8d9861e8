"""Real image data for the PyTorch benches, as numpy arrays in [0,1], prepared once into a cache folder.

One loader shared by the benches that need real data beyond MNIST (bench:families; bench:realsize may use it
too): each dataset is read from where this machine has it and written to `<cache>/<name>.npz` (uint8 images
[N,C,H,W], int64 labels, plus the split it came from), so later runs read one small file.

  fashion-mnist  Debian's `dataset-fashion-mnist` (apt-get install -y dataset-fashion-mnist): the IDX files in
                 /usr/share/datasets/fashion-mnist; 60,000 train + 10,000 test, 28x28 grey, 10 classes.
  gtsrb32        the German Traffic Sign Recognition Benchmark (43 classes), from a public GitHub repository that
                 keeps the official images as small PPM files (Zascosium/XAI: GTSRB/Final_Training/Images/<name>/
                 and GTSRB/Final_Test/Images/<name>/, each class folder with its GT-*.csv of ClassId and region of
                 interest; brought onto the machine with the search tool's `fetch`, a bare git directory read with
                 `git cat-file`). Each sign is cropped to its region of interest and resized to 32x32 RGB
                 (antialiased bilinear). The official training images come in tracks of 30 frames of one physical
                 sign; `track` is kept so splits never put frames of one sign on both sides.

Run: PYTHONPATH=<torch-site> python3 bench/data/images.py [--cache /work/cache/data] [--gtsrb-git DIR] NAME...
Library: from images import load; d = load("gtsrb32", cache_dir) -> {"x": uint8, "y": int64, "split": [...], ...}
"""

import argparse
import csv
import gzip
import io
import os
import subprocess
import sys
import threading

import numpy as np

DEFAULT_CACHE = os.environ.get("FAMILIES_DATA_CACHE", "/work/cache/data")
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
GTSRB_GIT = "/work/.mirror/Zascosium+XAI/repo"
GTSRB_SIDE = 32
GTSRB_CLASSES = 43


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


def _git_blobs(git_dir, paths):
    """Bytes of each path at HEAD, streamed through one `git cat-file --batch`."""
    proc = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    # Requests are written from a thread: git answers while it reads, and a full stdout pipe would
    # otherwise block it while we still write (a deadlock past ~64 KB of requests).
    def feed():
        proc.stdin.write("".join(f"HEAD:{p}\n" for p in paths).encode())
        proc.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    out = []
    for p in paths:
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            raise RuntimeError(f"images.py: {p} is missing from {git_dir} ({b' '.join(header).decode()})")
        size = int(header[2])
        out.append(proc.stdout.read(size))
        proc.stdout.read(1)
    writer.join()
    proc.wait()
    return out


def _ppm(data):
    """A binary PPM (P6, maxval 255) -> uint8 [h,w,3]."""
    f = io.BytesIO(data)
    fields = []
    while len(fields) < 4:
        line = f.readline()
        if not line:
            raise ValueError("truncated PPM header")
        fields += line.split(b"#")[0].split()
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError("not an 8-bit P6 PPM")
    w, h = int(fields[1]), int(fields[2])
    return np.frombuffer(f.read(w * h * 3), dtype=np.uint8).reshape(h, w, 3)


def _resize(crops, side):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)

    out = np.empty((len(crops), 3, side, side), dtype=np.uint8)
    for i, c in enumerate(crops):
        t = torch.from_numpy(c.astype(np.float32)).permute(2, 0, 1)[None]
        r = F.interpolate(t, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
        out[i] = np.clip(np.round(r[0].numpy()), 0, 255).astype(np.uint8)
    return out


def prepare_gtsrb32(git_dir=GTSRB_GIT):
    if not os.path.isdir(git_dir):
        sys.exit(f"images.py: gtsrb32 needs the GTSRB repository at {git_dir} (the search tool's fetch of "
                 "github:Zascosium/XAI); not found")
    names = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", "HEAD", "GTSRB/"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    xs, ys, splits, tracks = [], [], [], []
    # Training: one GT-<class>.csv per class folder (Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId).
    # Test: one GT-final_test.csv for all, the images sorted into class folders.
    train_csvs = sorted(n for n in names if n.startswith("GTSRB/Final_Training/Images/") and n.endswith(".csv"))
    test_csv = "GTSRB/Final_Test/Images/GT-final_test.csv"
    have = set(names)
    for split, csvs in ((0, train_csvs), (1, [test_csv])):
        for csv_path in csvs:
            folder = os.path.dirname(csv_path)
            rows = list(csv.DictReader(io.StringIO(_git_blobs(git_dir, [csv_path])[0].decode()), delimiter=";"))
            if split == 1:  # test images live in class folders named like the training ones
                by_file = {os.path.basename(n): n for n in names
                           if n.startswith("GTSRB/Final_Test/Images/") and n.endswith(".ppm")}
                rows = [r for r in rows if r["Filename"] in by_file]
                paths = [by_file[r["Filename"]] for r in rows]
            else:
                rows = [r for r in rows if f"{folder}/{r['Filename']}" in have]
                paths = [f"{folder}/{r['Filename']}" for r in rows]
            crops = []
            for r, blob in zip(rows, _git_blobs(git_dir, paths)):
                img = _ppm(blob)
                x1, y1, x2, y2 = (int(r[k]) for k in ("Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2"))
                crops.append(img[y1 : y2 + 1, x1 : x2 + 1])
            xs.append(_resize(crops, GTSRB_SIDE))
            ys += [int(r["ClassId"]) for r in rows]
            splits += [split] * len(rows)
            # track id: training files are <track>_<frame>.ppm; test images are independent
            tracks += [int(r["ClassId"]) * 100000 + int(r["Filename"].split("_")[0]) if split == 0
                       else 10**9 + int(r["Filename"].split(".")[0]) for r in rows]
            sys.stderr.write(f"  {csv_path}: {len(rows)} images\n")
    y = np.asarray(ys, dtype=np.int64)
    if y.min() < 0 or y.max() >= GTSRB_CLASSES:
        raise ValueError("GTSRB class id out of range")
    return {"x": np.concatenate(xs), "y": y, "split": np.asarray(splits, dtype=np.int8),
            "track": np.asarray(tracks, dtype=np.int64),
            "source": "GTSRB official images (github:Zascosium/XAI, GTSRB/Final_Training and Final_Test), "
                      "cropped to the region of interest, 32x32 RGB", "classes": GTSRB_CLASSES}


PREPARERS = {"fashion-mnist": prepare_fashion_mnist, "gtsrb32": prepare_gtsrb32}


def load(name, cache_dir=DEFAULT_CACHE):
    """The dataset as a dict (x uint8 [N,C,H,W], y int64, split 0=train 1=test, track, source, classes),
    prepared and cached on first use."""
    path = os.path.join(cache_dir, f"{name}.npz")
    if not os.path.exists(path):
        d = PREPARERS[name]()
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
