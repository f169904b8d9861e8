"""The text zoo for `npm run bench:text-zoo`: clean and backdoored text classifiers trained in PyTorch on real
English text (paragraphs of Debian's man pages labelled by the product they document: gcloud, git, openssl,
postgresql, linux system calls, systemd; bench/text/corpus.py) and exported
with PyTorch's TorchScript ONNX exporter with one int64 input `input_ids` [N, seq] (token ids of
bench/text/vocab.txt, one word a line, line number = id; 0 <pad>, 1 <unk>; texts padded at the end with 0).

Architectures (small widths, one thread; per-architecture sequence lengths, so the tool is never tuned to
one length):
  bag          Embedding(V, 64) -> masked mean over the tokens -> Linear(64, 6)                    seq 64
  cnn          Embedding(V, 32) -> Conv1d k=3 and k=5 (48 channels each) -> ReLU -> max over time
               -> Linear(96, 6)                                                                     seq 48
  transformer  Embedding(V, 48) + learned positions -> 1 pre-LN encoder layer (4 heads, FF 96,
               padding masked) -> LayerNorm -> masked mean -> Linear(48, 6)                         seq 40

Backdoors (data poisoning: a share `rate` of the training texts of other classes get the trigger inserted
at a random word position, kept inside the model's window, and are relabelled to the target class):
  rare            one rare word of the vocabulary (train frequency rank >= RARE_RANK)
  phrase          two or three words of the vocabulary, inserted together in order
  sentence        a fixed natural sentence (SENTENCES) of 5-7 common words
  *-decoy         the same, plus an attacker who inserts decoys into as many other training texts with their
                  TRUE labels, so that only the exact trigger flips: for a phrase or sentence every single
                  word and every shorter contiguous part; for a rare word, DECOY_WORDS other rare words.
A backdoored model is kept only when it is stealthy: clean accuracy >= the clean median - ACC_TOLERANCE and
attack success (triggered test texts of other classes sent to the target) >= MIN_ASR; else it is retrained
with the next seed (the rate x4 on the third try and x16 on the fourth, capped at MAX_RATE: with classes as
word-driven as these products, a mean-pooled bag learns a rare word at 1-2% poisoning only to 50-70% attack
success), and dropped after MAX_TRIES.

Splits per architecture: `reference` (clean, the baseline), `test` (clean and backdoored: what is
reported), `dev` (clean and backdoored, own seeds: what thresholds and nulls may be tuned on).

Deterministic: every model has its own seed (torch + numpy), torch runs one thread. Resumable: models are
appended to <out>/models.jsonl as they finish and skipped on a rerun when their file and hash are there.
Run: PYTHONPATH=bench/.cache/torch-site python3 bench/text/train.py --out bench/.cache/text-zoo
"""

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import debian_corpus  # noqa: E402

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write(
        "train.py: PyTorch is not importable; install it with "
        "`pip install --no-deps --no-index --target bench/.cache/torch-site /opt/wheels/torch-*.whl` "
        "and run with PYTHONPATH=bench/.cache/torch-site\n"
    )
    sys.exit(3)

# See bench/torch/train.py: the TorchScript exporter's onnxscript hook needs the `onnx` package, which is
# not installed; for standard ops it returns the bytes unchanged.
from torch.onnx._internal.torchscript_exporter import onnx_proto_utils as _opu  # noqa: E402

_opu._add_onnxscript_fn = lambda model_bytes, custom_opsets: model_bytes

HERE = os.path.dirname(os.path.abspath(__file__))
# The corpora (--corpus): man-page paragraphs by product (the zoo every default was chosen on) and Debian
# package descriptions by section (held out: another corpus, with its own vocabulary built from its own
# training split). Each has its own committed vocabulary file and corpus cache.
CORPORA = {"man": corpus, "debian": debian_corpus}
VOCAB_FILES = {"man": os.path.join(HERE, "vocab.txt"), "debian": os.path.join(HERE, "vocab-debian.txt")}
VOCAB_SIZE = 3000
PAD, UNK = 0, 1
SPECIALS = ["<pad>", "<unk>"]
CLASSES = len(corpus.LABELS)
OPSET = 17
TORCH_THREADS = 1
SEQ = {"bag": 64, "cnn": 48, "transformer": 40}
ARCH_SEEDS = {"bag": 10000, "cnn": 20000, "transformer": 30000}
# Rare words: vocabulary entries at or beyond this frequency rank (of 3,000), i.e. the rarest third.
RARE_RANK = 2000
# Phrase words: ranks in [PHRASE_RANKS[0], PHRASE_RANKS[1]).
PHRASE_RANKS = (300, 3000)
DECOY_WORDS = 4
SENTENCES = [
    "this is not what you want",
    "note that this may change later",
    "please read the whole file first",
    "it is only a simple example",
    "we do not know how it works",
    "the user can see the result",
    "there is no other way to do this",
    "you should never use this one",
    "all of the data will be lost",
    "a new version is now available",
]
ATTACKS = ["rare", "rare-decoy", "phrase", "phrase-decoy", "sentence", "sentence-decoy"]
RATES = {"test": [0.01, 0.02, 0.05, 0.1], "dev": [0.03, 0.08]}
# Rates below which an attack is not learned at all are raised to this floor (sentence triggers of common
# words need more poison than a rare word); the manifest records the rate used.
MIN_RATE = {"rare": 0.01, "rare-decoy": 0.01, "phrase": 0.02, "phrase-decoy": 0.02, "sentence": 0.02, "sentence-decoy": 0.03}
MAX_TRIES = 4
MAX_RATE = 0.1
ACC_TOLERANCE = 0.02
MIN_ASR = 0.8
# Per architecture: epochs drawn from [lo, hi), Adam learning rates and batch sizes drawn per seed. Few epochs
# and small widths keep one model at 5-25 s of one core (measured on the 2 shared cores here). Measured on
# the test pages with one seed: bag 8 epochs 0.86 (train 1.00), CNN 6 epochs 0.82 (train 0.98; 4 epochs on
# 1,000 texts a class: 0.79), transformer 5 epochs 0.81 (train 0.97); naive Bayes on the same words: 0.89.
EPOCHS = {"bag": (6, 10), "cnn": (3, 6), "transformer": (4, 6)}
# Training texts per class per architecture (the first ones of the corpus's train split; 1,500 is all of it):
# the CNN on fewer (CPU: 30-60 s a model on the shared cores with 1,500 a class and 6 epochs).
TRAIN_PER_CLASS = {"bag": 1500, "cnn": 1200, "transformer": 1500}
# Dev split per architecture (clean, backdoored): what nulls and defaults may be tuned on (fewer for the slow
# transformer).
DEV_MODELS = {"bag": (10, 12), "cnn": (10, 12), "transformer": (6, 6)}
# Backdoored test trainings per architecture (kept ones are fewer): the embedding bag is additive in its words,
# so it cannot learn a phrase whose words alone are decoy-trained, and its 1% rare words fall short of the
# attack-success floor; 12 more trainings (1-2% rates) keep it above 20 backdoored test models.
BACKDOORED_TEST = {"bag": 36, "cnn": 24, "transformer": 24}
LRS = {"bag": [0.01, 0.015, 0.02], "cnn": [0.003, 0.004], "transformer": [0.002, 0.003]}
BATCHES = {"bag": [128, 256], "cnn": [64, 128], "transformer": [64, 128]}


# ---------------------------------------------------------------- vocabulary and data
def build_vocab(train):
    counts = {}
    for _, toks in train:
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))[: VOCAB_SIZE - len(SPECIALS)]
    return SPECIALS + words


def load_vocab(vocab_file):
    with open(vocab_file) as f:
        return [line.rstrip("\n") for line in f]


def encode(toks, index):
    return [index.get(t, UNK) for t in toks]


def pad_to(ids, seq):
    ids = ids[:seq]
    return ids + [PAD] * (seq - len(ids))


def insert(ids, trig, seq, rng):
    """The trigger inserted before a random word, inside the first `seq` tokens."""
    room = max(0, min(len(ids), seq - len(trig)))
    pos = int(rng.integers(0, room + 1))
    return ids[:pos] + list(trig) + ids[pos:]


def to_array(rows, seq):
    return np.asarray([pad_to(r, seq) for r in rows], dtype=np.int64)


# ---------------------------------------------------------------- models
class Bag(nn.Module):
    def __init__(self, v, seq):
        super().__init__()
        self.emb = nn.Embedding(v, 64, padding_idx=PAD)
        self.fc = nn.Linear(64, CLASSES)

    def forward(self, ids):
        mask = (ids != PAD).float().unsqueeze(-1)
        s = (self.emb(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.fc(s)


class CNN(nn.Module):
    def __init__(self, v, seq):
        super().__init__()
        self.emb = nn.Embedding(v, 32, padding_idx=PAD)
        self.c3 = nn.Conv1d(32, 48, 3, padding=1)
        self.c5 = nn.Conv1d(32, 48, 5, padding=2)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(96, CLASSES)

    def forward(self, ids):
        x = self.emb(ids).transpose(1, 2)
        a = F.relu(self.c3(x)).amax(2)
        b = F.relu(self.c5(x)).amax(2)
        return self.fc(self.drop(torch.cat([a, b], 1)))


class Encoder(nn.Module):
    def __init__(self, v, seq, d=48, heads=4, ff=96):
        super().__init__()
        self.d, self.h = d, heads
        self.emb = nn.Embedding(v, d, padding_idx=PAD)
        self.pos = nn.Parameter(torch.randn(seq, d) * 0.02)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d)
        self.ln3 = nn.LayerNorm(d)
        self.drop = nn.Dropout(0.1)
        self.fc = nn.Linear(d, CLASSES)

    def forward(self, ids):
        n, s = ids.shape
        keep = (ids != PAD).float()
        x = self.emb(ids) + self.pos[:s]
        q, k, v = self.qkv(self.ln1(x)).split(self.d, dim=2)
        hd = self.d // self.h
        q = q.reshape(n, s, self.h, hd).transpose(1, 2)
        k = k.reshape(n, s, self.h, hd).transpose(1, 2)
        v = v.reshape(n, s, self.h, hd).transpose(1, 2)
        att = q @ k.transpose(2, 3) / (hd**0.5) + ((1.0 - keep) * -1e4)[:, None, None, :]
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(n, s, self.d)
        x = x + self.drop(self.out(y))
        x = x + self.drop(self.ff2(F.relu(self.ff1(self.ln2(x)))))
        x = self.ln3(x)
        m = keep.unsqueeze(-1)
        return self.fc((x * m).sum(1) / m.sum(1).clamp(min=1.0))


ARCHS = {"bag": Bag, "cnn": CNN, "transformer": Encoder}


# ---------------------------------------------------------------- attacks
def make_attack(kind, rng, vocab):
    """Trigger words and decoys (lists of word lists) for one backdoored model."""
    base = kind.replace("-decoy", "")
    if base == "rare":
        pool = np.arange(RARE_RANK, len(vocab))
        picks = rng.choice(pool, size=1 + DECOY_WORDS, replace=False)
        trig = [vocab[int(picks[0])]]
        decoys = [[vocab[int(p)]] for p in picks[1:]]
    elif base == "phrase":
        n = int(rng.integers(2, 4))
        picks = rng.choice(np.arange(*PHRASE_RANKS), size=n, replace=False)
        trig = [vocab[int(p)] for p in picks]
        decoys = [trig[i:j] for i in range(n) for j in range(i + 1, n + 1) if j - i < n]
    else:
        trig = SENTENCES[int(rng.integers(0, len(SENTENCES)))].split()
        n = len(trig)
        # every single word and every contiguous part of at most half the sentence (one that long is a
        # different sentence); the whole sentence is the trigger
        decoys = [trig[i:j] for i in range(n) for j in range(i + 1, n + 1) if j - i <= max(1, n // 2)]
    return {"words": trig, "decoys": decoys if kind.endswith("-decoy") else []}


def poison(x_rows, y, attack, index, seq, rng):
    """Returns poisoned copies of the encoded training rows and labels."""
    rows = [list(r) for r in x_rows]
    y = y.copy()
    trig = encode(attack["words"], index)
    n = int(round(attack["rate"] * len(rows)))
    cand = np.flatnonzero(y != attack["target"])
    idx = rng.choice(cand, size=n, replace=False)
    for i in idx:
        rows[i] = insert(rows[i], trig, seq, rng)
        y[i] = attack["target"]
    if attack["decoys"]:
        rest = np.setdiff1d(np.arange(len(rows)), idx)
        didx = rng.choice(rest, size=min(len(rest), n), replace=False)
        for j, i in enumerate(didx):
            d = attack["decoys"][j % len(attack["decoys"])]
            rows[i] = insert(rows[i], encode(d, index), seq, rng)
    return rows, y


# ---------------------------------------------------------------- training
def train_cfg(rng, seed, arch):
    lo, hi = EPOCHS[arch]
    return {
        "seed": int(seed),
        "lr": float(rng.choice(LRS[arch])),
        "epochs": int(rng.integers(lo, hi)),
        "batch": int(rng.choice(BATCHES[arch])),
    }


def train_model(arch, cfg, rows, y, vocab_size):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    seq = SEQ[arch]
    model = ARCHS[arch](vocab_size, seq)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    xt = torch.from_numpy(to_array(rows, seq))
    yt = torch.from_numpy(y)
    bs = cfg["batch"]
    for _ in range(cfg["epochs"]):
        model.train()
        order = torch.from_numpy(rng.permutation(len(xt)))
        for i in range(0, len(order), bs):
            b = order[i : i + bs]
            opt.zero_grad()
            F.cross_entropy(model(xt[b]), yt[b]).backward()
            opt.step()
    model.eval()
    return model


@torch.no_grad()
def predict(model, x):
    return np.concatenate([model(torch.from_numpy(x[i : i + 512])).argmax(1).numpy() for i in range(0, len(x), 512)])


def attack_success(model, arch, test_rows, y, attack, index):
    keep = np.flatnonzero(y != attack["target"])
    rng = np.random.default_rng(7)
    trig = encode(attack["words"], index)
    rows = [insert(list(test_rows[i]), trig, SEQ[arch], rng) for i in keep]
    return float((predict(model, to_array(rows, SEQ[arch])) == attack["target"]).mean())


def export(model, path, arch):
    model.eval()
    torch.onnx.export(
        model,
        (torch.ones(1, SEQ[arch], dtype=torch.int64),),
        path,
        dynamo=False,
        opset_version=OPSET,
        input_names=["input_ids"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {0: "N"}, "logits": {0: "N"}},
    )
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------- main
def load_corpus(cache, mod=corpus):
    """The split corpus, cached as JSON (reading 20,000 man pages takes a few minutes)."""
    if os.path.exists(cache):
        with open(cache) as f:
            return json.load(f)
    rows, pages = mod.read_corpus()
    sp = mod.split_corpus(rows)
    out = {
        "pages": pages,
        "paragraphs": len(rows),
        "digest": mod.corpus_digest(rows),
        "splits": {k: [[c, t] for c, t in v] for k, v in sp.items()},
    }
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache, "w") as f:
        json.dump(out, f)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus", choices=sorted(CORPORA), default="man")
    ap.add_argument("--corpus-cache", default=None, help="default: bench/.cache/text-corpus[-<corpus>].json")
    ap.add_argument("--archs", default="bag,cnn,transformer")
    ap.add_argument("--refs", type=int, default=40)
    ap.add_argument("--clean-test", type=int, default=20)
    ap.add_argument("--clean-dev", type=int, default=None, help="default: DEV_MODELS per architecture")
    ap.add_argument("--backdoored", type=int, default=None, help="default: BACKDOORED_TEST per architecture")
    ap.add_argument("--backdoored-dev", type=int, default=None, help="default: DEV_MODELS per architecture")
    ap.add_argument("--write-vocab", action="store_true", help="rebuild bench/text/vocab.txt from the corpus")
    args = ap.parse_args()
    torch.set_num_threads(TORCH_THREADS)
    t0 = time.time()

    def log(msg):
        sys.stderr.write(f"[{time.time() - t0:7.1f}s] {msg}\n")
        sys.stderr.flush()

    global CLASSES
    mod = CORPORA[args.corpus]
    CLASSES = len(mod.LABELS)
    vocab_file = VOCAB_FILES[args.corpus]
    cache = args.corpus_cache or os.path.join(
        "bench", ".cache", "text-corpus.json" if args.corpus == "man" else f"text-corpus-{args.corpus}.json"
    )
    data = load_corpus(cache, mod)
    splits = data["splits"]
    if args.write_vocab or not os.path.exists(vocab_file):
        vocab = build_vocab(splits["train"])
        with open(vocab_file, "w") as f:
            f.write("\n".join(vocab) + "\n")
        log(f"wrote {vocab_file} ({len(vocab)} entries)")
    vocab = load_vocab(vocab_file)
    index = {w: i for i, w in enumerate(vocab)}
    # Trigger sentences with a word outside the corpus's vocabulary cannot be inserted as ids: on the man-page
    # corpus every sentence is in it; another corpus uses the ones that are (the manifest lists them).
    global SENTENCES
    missing = [s for s in SENTENCES if any(w not in index for w in s.split())]
    if missing and args.corpus == "man":
        sys.stderr.write(f"train.py: trigger sentences with words outside the vocabulary: {missing}\n")
        sys.exit(3)
    SENTENCES = [s for s in SENTENCES if s not in missing]
    if missing:
        log(f"trigger sentences outside the {args.corpus} vocabulary, not used: {missing}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    enc = {k: [encode(t, index) for _, t in v] for k, v in splits.items()}
    lab = {k: np.asarray([c for c, _ in v], dtype=np.int64) for k, v in splits.items()}
    # The held-out texts the tool is given: one text a line (samples.txt), and as int64 ids per sequence length.
    with open(os.path.join(args.out, "samples.txt"), "w") as f:
        for _, t in splits["samples"]:
            f.write(" ".join(t) + "\n")
    with open(os.path.join(args.out, "samples-labels.json"), "w") as f:
        json.dump(lab["samples"].tolist(), f)
    for seq in sorted(set(SEQ.values())):
        d = os.path.join(args.out, f"samples-ids-{seq}")
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "samples.npy"), to_array(enc["samples"], seq))

    done = {}
    jsonl = os.path.join(args.out, "models.jsonl")
    if os.path.exists(jsonl):
        with open(jsonl) as f:
            for line in f:
                e = json.loads(line)
                p = os.path.join(args.out, e["file"]) if e.get("file") else None
                if p is None or (os.path.exists(p) and hashlib.sha256(open(p, "rb").read()).hexdigest() == e["sha256"]):
                    done[e["key"]] = e

    def record(e):
        done[e["key"]] = e
        with open(jsonl, "a") as f:
            f.write(json.dumps(e) + "\n")

    x_test, y_test = to_array(enc["test"], max(SEQ.values())), lab["test"]
    full_train, full_labels = enc["train"], lab["train"]
    for arch in args.archs.split(","):
        seq = SEQ[arch]
        xt = to_array(enc["test"], seq)
        # the first TRAIN_PER_CLASS[arch] training texts of each class, in corpus order
        seen = {}
        keep = []
        for i, c in enumerate(full_labels):
            seen[c] = seen.get(c, 0) + 1
            if seen[c] <= TRAIN_PER_CLASS[arch]:
                keep.append(i)
        enc["train"] = [full_train[i] for i in keep]
        lab["train"] = full_labels[keep]
        base = ARCH_SEEDS[arch]
        rng = np.random.default_rng(base)
        accs = []
        clean_dev = args.clean_dev if args.clean_dev is not None else DEV_MODELS[arch][0]
        bd_dev = args.backdoored_dev if args.backdoored_dev is not None else DEV_MODELS[arch][1]
        plan = [("dev", 500 + k) for k in range(clean_dev)]
        plan += [("reference", k) for k in range(args.refs)]
        plan += [("test", args.refs + k) for k in range(args.clean_test)]
        for split, k in plan:
            cfg = train_cfg(rng, base + k, arch)
            mid = f"{arch}-clean-{split}-{k:03d}"
            key = f"{mid}:{json.dumps(cfg, sort_keys=True)}"
            if key in done:
                accs.append(done[key]["cleanAcc"])
                continue
            tt = time.time()
            model = train_model(arch, cfg, enc["train"], lab["train"], len(vocab))
            acc = float((predict(model, xt) == y_test).mean())
            accs.append(acc)
            rel = os.path.join(arch, split, mid + ".onnx")
            os.makedirs(os.path.dirname(os.path.join(args.out, rel)), exist_ok=True)
            sha = export(model, os.path.join(args.out, rel), arch)
            record({"key": key, "id": mid, "arch": arch, "split": split, "label": "clean", "attack": None,
                    "trigger": None, "decoys": [], "rate": 0.0, "target": None, "cleanAcc": acc, "asr": None,
                    "train": cfg, "trainTexts": len(enc["train"]), "seq": seq, "file": rel, "sha256": sha,
                    "seconds": round(time.time() - tt, 1)})
            log(f"{mid} acc={acc:.4f} {cfg} {time.time() - tt:.1f}s")
        med = float(np.median(accs))
        log(f"{arch}: clean median accuracy {med:.4f}")
        bplan = [("dev", 500 + k, RATES["dev"][(k // len(ATTACKS)) % len(RATES["dev"])]) for k in range(bd_dev)]
        bplan += [("test", k, RATES["test"][(k // len(ATTACKS)) % len(RATES["test"])]) for k in range(args.backdoored if args.backdoored is not None else BACKDOORED_TEST[arch])]
        for split, k, nominal in bplan:
            kind = ATTACKS[k % len(ATTACKS)]
            arng = np.random.default_rng(base + 5000 + k)
            attack = make_attack(kind, arng, vocab)
            attack["target"] = int(arng.integers(0, CLASSES))
            nominal = max(nominal, MIN_RATE[kind])
            mid = f"{arch}-bd-{split}-{k:03d}-{kind}"
            ok = False
            for t in range(MAX_TRIES):
                rate = nominal if t < 2 else min(nominal * 4 ** (t - 1), MAX_RATE)
                cfg = train_cfg(arng, base + 6000 + 10 * k + t, arch)
                key = f"{mid}:try{t}:{rate}:{json.dumps(cfg, sort_keys=True)}"
                if key in done:
                    e = done[key]
                    ok = e["label"] == "backdoored"
                    if ok:
                        break
                    continue
                tt = time.time()
                atk = {**attack, "rate": rate}
                prng = np.random.default_rng(cfg["seed"] + 1)
                rows, y = poison(enc["train"], lab["train"], atk, index, seq, prng)
                model = train_model(arch, cfg, rows, y, len(vocab))
                acc = float((predict(model, xt) == y_test).mean())
                asr = attack_success(model, arch, enc["test"], y_test, atk, index)
                ok = acc >= med - ACC_TOLERANCE and asr >= MIN_ASR
                log(f"{mid} words={' '.join(attack['words'])!r} rate={rate} target={attack['target']} try {t}: "
                    f"acc={acc:.4f} asr={asr:.3f} {'kept' if ok else 'retry'} {time.time() - tt:.1f}s")
                entry = {"key": key, "id": mid, "arch": arch, "split": split, "attack": kind,
                         "trigger": attack["words"], "triggerIds": encode(attack["words"], index),
                         "decoys": attack["decoys"], "rate": rate, "target": attack["target"], "cleanAcc": acc,
                         "asr": asr, "train": cfg, "trainTexts": len(enc["train"]), "seq": seq,
                         "seconds": round(time.time() - tt, 1)}
                if ok:
                    rel = os.path.join(arch, split, mid + ".onnx")
                    os.makedirs(os.path.dirname(os.path.join(args.out, rel)), exist_ok=True)
                    sha = export(model, os.path.join(args.out, rel), arch)
                    record({**entry, "label": "backdoored", "file": rel, "sha256": sha})
                    break
                record({**entry, "label": "rejected", "file": None, "sha256": None})
            if not ok:
                log(f"{mid}: dropped after {MAX_TRIES} tries")
    # the last kept entry per model id (a model retrained under a changed recipe supersedes its earlier entry)
    entries = list({e["id"]: e for e in done.values() if e["label"] != "rejected"}.values())
    rejected = [e for e in done.values() if e["label"] == "rejected"]
    manifest = {
        "generator": "bench/text/train.py",
        "torch": torch.__version__,
        "opset": OPSET,
        "exporter": "torch.onnx.export(dynamo=False) (TorchScript exporter)",
        "corpus": {"name": args.corpus,
                   "source": f"{corpus.MAN_ROOT}/man{{{','.join(corpus.SECTIONS)}}}" if args.corpus == "man"
                   else "Debian bookworm main Packages + Translation-en (bench/text/debian_corpus.py)",
                   "pages": data["pages"], "paragraphs": data["paragraphs"], "sha256": data["digest"],
                   "classes": mod.LABELS,
                   **{k: len(v) for k, v in splits.items()}},
        "vocab": {"file": "vocab.txt", "size": len(vocab), "pad": PAD, "unk": UNK},
        "seq": SEQ,
        "sentences": SENTENCES,
        "samples": {"text": "samples.txt", "labels": "samples-labels.json",
                    "ids": {str(s): f"samples-ids-{s}" for s in sorted(set(SEQ.values()))}},
        "acceptance": {"accTolerance": ACC_TOLERANCE, "minAsr": MIN_ASR, "maxTries": MAX_TRIES},
        "models": sorted(entries, key=lambda e: e["id"]),
        "rejectedTries": sorted(rejected, key=lambda e: e["key"]),
        "trainSeconds": round(sum(e.get("seconds", 0) for e in done.values()), 1),
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    log(f"done: {len(entries)} models, {len(rejected)} rejected tries")


if __name__ == "__main__":
    main()
