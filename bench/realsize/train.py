"""Trains the real-size zoo (npm run bench:realsize-zoo runs this; see bench/realsize/README.md).

Per architecture: one clean base model trained from scratch on the whole training split (cached as
base.pt), then every zoo model is a fine-tune of that base with its own seed (its own data subset, data
order and learning rate): clean references, clean test models, and backdoored models whose fine-tuning
data is poisoned (bench/realsize/triggers.py). Exported with PyTorch's TorchScript ONNX exporter (opset 17);
the model takes the [0, 1] image and normalises inside. Resumable: a model already in the architecture's
manifest with the same config hash (and its file intact) is skipped.

python3 bench/realsize/train.py --data DIR --out DIR --archs resnet18,vgg11 [--quick]
"""

import argparse
import fcntl
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nets import WithNormalise, count_macs, count_params, make_net  # noqa: E402
from triggers import ATTACKS, apply_trigger, make_trigger  # noqa: E402

ZOO_VERSION = 1
OPSET = 17
TORCH_THREADS = 1
# Reduced widths, chosen for a CPU budget of a few core-hours (bench/realsize/README.md): resnet18 at a
# quarter of its full width (16 instead of 64), VGG-11 and MobileNetV2 at half width, WRN-16-2 full.
ARCHS = {
    "resnet18": {"width": 16, "fullWidth": 64},
    "wrn16_2": {"width": 1, "fullWidth": 1},
    "vgg11": {"width": 0.5, "fullWidth": 1},
    "mobilenetv2": {"width": 0.5, "fullWidth": 1},
}
BASE = {"epochs": 2, "batch": 128, "lr": 0.05, "momentum": 0.9, "weightDecay": 5e-4, "warmupEpochs": 0.3}
# Fine-tuning recipes. "cheap" (1 epoch, 2,000 images: 32 SGD steps) makes clean fine-tunes but no backdoor
# that passes the stealth rule (bench/realsize/findings.md); "long" (5,000 images x 2 epochs: 158 steps) does. The references may
# be made with another recipe than the test models (a defender's references are made differently anyway), but
# the clean and backdoored test models always share one, or the detector would only see the recipe.
RECIPES = {
    "cheap": {"images": 2000, "epochs": 1, "batch": 64, "lrChoices": [0.005, 0.01, 0.02], "momentum": 0.9, "weightDecay": 5e-4},
    "long": {"images": 5000, "epochs": 2, "batch": 64, "lrChoices": [0.02, 0.03, 0.05], "momentum": 0.9, "weightDecay": 5e-4, "warmupEpochs": 0.2},
}
RECIPE = {"reference": "cheap", "test": "long"}
COUNTS = {"reference": 20, "test": 15}
RATES = [0.05, 0.10, 0.15, 0.20]
MAX_ATTEMPTS = 3
STEALTH = {"accuracyTolerance": 0.02, "minAsr": 0.8}
# What the backdoored fine-tune does to the final linear layer (--head): "free" trains it as the recipe says;
# "frozen" keeps it at the base model's weights (an adaptive attacker who knows the tool's final-layer check
# reads the classifier rows: every other layer trains as the recipe says); "anchored" trains it but adds
# HEAD_ANCHOR * sum over the rows of ||w_c - w_c(base)||^2 + (b_c - b_c(base))^2 to the loss. The
# coefficient was fixed before any run, not tuned: the head holds 43 x 128 weights, so a drift of 0.01 per
# weight costs ~0.55, the size of the fine-tune's cross-entropy, and drifts larger than a clean fine-tune's
# are paid for.
HEADS = ("free", "frozen", "anchored")
HEAD_ANCHOR = 1.0
EVAL_N = 500
EVAL_SEED = 4242
PAD = 2


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def load_split(data_dir, name):
    x = np.load(os.path.join(data_dir, f"{name}-x.npy"))
    y = np.load(os.path.join(data_dir, f"{name}-y.npy"))
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(y.astype(np.int64))


def to_float(xb):
    return xb.float().div_(255.0)


def augment(xb, gen):
    """Random crop with 2 px replicate padding (per image), the usual CIFAR/GTSRB augmentation without flips."""
    n = xb.shape[0]
    padded = F.pad(xb, (PAD, PAD, PAD, PAD), mode="replicate")
    offs = torch.randint(0, 2 * PAD + 1, (n, 2), generator=gen)
    out = torch.empty_like(xb)
    for i in range(n):
        r, c = int(offs[i, 0]), int(offs[i, 1])
        out[i] = padded[i, :, r : r + 32, c : c + 32]
    return out


def final_linear(model):
    """The network's classifier head (every net of nets.py names it fc)."""
    return model.net.fc


def run_epochs(model, x, y, epochs, batch, lr, momentum, wd, seed, warmup_epochs=0.0, label=None, poison=None, head="free"):
    """SGD (Nesterov) with linear warm-up and cosine decay; x float [N,3,32,32] in [0,1].

    poison: (mask [N] bool, trigger) or None: the masked images get the trigger stamped after the random crop,
    where it sits at test time (a crop would shift a corner patch, or cut it, and blur what is to be learnt).
    head: HEADS (the final linear layer trained, frozen at its starting weights, or anchored to them).
    """
    gen = torch.Generator().manual_seed(seed)
    fc = final_linear(model)
    anchor = None
    if head == "frozen":
        for p in fc.parameters():
            p.requires_grad_(False)
    elif head == "anchored":
        anchor = [p.detach().clone() for p in fc.parameters()]
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=momentum, weight_decay=wd, nesterov=True)
    steps_per_epoch = (x.shape[0] + batch - 1) // batch
    total = epochs * steps_per_epoch
    warm = int(warmup_epochs * steps_per_epoch)
    step = 0
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0], generator=gen)
        for s in range(0, x.shape[0], batch):
            idx = perm[s : s + batch]
            xb = augment(x[idx], gen)
            if poison is not None:
                m = poison[0][idx]
                if bool(m.any()):
                    xb[m] = apply_trigger(poison[1], xb[m])
            cur = lr * (step + 1) / warm if step < warm else 0.5 * lr * (1 + np.cos(np.pi * (step - warm) / max(1, total - warm)))
            for g in opt.param_groups:
                g["lr"] = cur
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), y[idx])
            if anchor is not None:
                loss = loss + HEAD_ANCHOR * sum(((p - a) ** 2).sum() for p, a in zip(fc.parameters(), anchor))
            loss.backward()
            opt.step()
            step += 1
        if label:
            log(f"{label}: epoch {step // steps_per_epoch} of {epochs} ({time.process_time():.0f} cpu-s so far)")


@torch.no_grad()
def predict(model, x, batch=250):
    model.eval()
    return torch.cat([model(x[i : i + batch]).argmax(1) for i in range(0, x.shape[0], batch)])


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(model, path):
    model.eval()
    torch.onnx.export(
        model,
        (torch.zeros(1, 3, 32, 32),),
        path,
        dynamo=False,
        opset_version=OPSET,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
    )
    return sha256_file(path)


def config_hash(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def seed_of(*parts):
    return int(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:8], 16)


class ArchZoo:
    def __init__(self, arch, data_dir, out, quick, plan=None):
        self.arch = arch
        # what to build (main's --test-clean, --attacks, --rates, --cells, --test-recipe)
        self.plan_opts = {"testClean": COUNTS["test"], "references": COUNTS["reference"], "firstCell": 0, "attacks": ATTACKS, "rates": RATES, "cells": 1, "recipe": RECIPE, "head": "free", "medianFrom": None, **(plan or {})}
        self.cfg = ARCHS[arch]
        self.dir = os.path.join(out, arch)
        os.makedirs(self.dir, exist_ok=True)
        self.quick = quick
        meta = json.load(open(os.path.join(data_dir, "meta.json")))
        self.classes = len(meta["classes"])
        self.dataset = meta["dataset"]
        self.train_x8, self.train_y = load_split(data_dir, "train")
        test_x8, test_y = load_split(data_dir, "test")
        perm = torch.randperm(test_x8.shape[0], generator=torch.Generator().manual_seed(EVAL_SEED))[:EVAL_N]
        self.eval_x, self.eval_y = to_float(test_x8[perm]), test_y[perm]
        probe_x8, _ = load_split(data_dir, "probe")
        self.probe_x = to_float(probe_x8)
        tx = to_float(self.train_x8)
        self.mean = tx.mean(dim=(0, 2, 3)).tolist()
        self.std = tx.std(dim=(0, 2, 3)).tolist()
        del tx
        self.manifest_path = os.path.join(self.dir, "manifest.json")
        self.manifest = self._read_manifest()

    def _read_manifest(self):
        if os.path.exists(self.manifest_path):
            m = json.load(open(self.manifest_path))
            if m.get("zooVersion") == ZOO_VERSION:
                return m
        return {"zooVersion": ZOO_VERSION, "arch": self.arch, "base": None, "models": [], "rejected": []}

    def _write_manifest(self):
        tmp = f"{self.manifest_path}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(self.manifest, f, indent=1)
            f.write("\n")
        os.replace(tmp, self.manifest_path)

    def _update_manifest(self, change=None):
        """Re-reads the manifest under a lock, applies change(manifest) and writes it back: two train.py
        processes may build one architecture's zoo (--only clean / --only backdoor), each adding its own models."""
        with open(f"{self.manifest_path}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.manifest = self._read_manifest()
            if change is not None:
                change(self.manifest)
                self._write_manifest()

    def new_net(self):
        return WithNormalise(make_net(self.arch, self.classes, self.cfg["width"]), self.mean, self.std)

    # ---- base model -------------------------------------------------------------------------------------
    def base(self):
        spec = {"arch": self.arch, "width": self.cfg["width"], "base": BASE, "seed": seed_of(self.arch, "base"), "quick": self.quick, "zooVersion": ZOO_VERSION, "dataset": self.dataset}
        h = config_hash(spec)
        path = os.path.join(self.dir, "base.pt")
        b = self.manifest.get("base")
        if b and b["configHash"] == h and os.path.exists(path) and sha256_file(path) == b["sha256"]:
            model = self.new_net()
            model.load_state_dict(torch.load(path))
            return model, b
        torch.manual_seed(spec["seed"])
        model = self.new_net()
        # --quick: a seeded 3,000-image subset (the arrays are in class order)
        sub = torch.randperm(self.train_x8.shape[0], generator=torch.Generator().manual_seed(spec["seed"]))
        sub = sub if not self.quick else sub[:3000]
        n = int(sub.shape[0])
        log(f"{self.arch}: training the base model ({BASE['epochs']} epochs on {n} images)")
        c0, w0 = time.process_time(), time.time()
        run_epochs(model, to_float(self.train_x8[sub]), self.train_y[sub], BASE["epochs"] if not self.quick else 1, BASE["batch"], BASE["lr"], BASE["momentum"], BASE["weightDecay"], spec["seed"], BASE["warmupEpochs"], label=f"{self.arch} base")
        acc = float((predict(model, self.eval_x) == self.eval_y).float().mean())
        torch.save(model.state_dict(), path)
        b = {
            "configHash": h,
            "sha256": sha256_file(path),
            "seed": spec["seed"],
            "trainImages": n,
            "hyper": BASE,
            "cleanAccuracy": round(acc, 4),
            "trainingCpuS": round(time.process_time() - c0, 1),
            "trainingWallS": round(time.time() - w0, 1),
            "params": count_params(model),
            "macs": count_macs(model),
        }
        # every fine-tune depends on the base
        self._update_manifest(lambda m: m.update({"base": b, "models": [], "rejected": []}))
        log(f"{self.arch}: base accuracy {acc:.4f} in {b['trainingCpuS']} cpu-s")
        return model, b

    # ---- fine-tunes -------------------------------------------------------------------------------------
    def plan(self):
        q, o = self.quick, self.plan_opts
        recipe = o["recipe"]
        specs = []
        # a zoo of another head mode holds no references (the ordinary zoo's, named by --stealth-median-from,
        # are scored against); its clean test models are controls: clean fine-tunes under the same head rule
        # --first-cell K: the test models' numbering starts at K (clean-K.., <attack>-rNN-cK..), so a zoo that
        # extends another (sharing its base) gets new ids, hence new seeds (seed_of hashes the id)
        first = o["firstCell"]
        splits = (("reference", o["references"], 0), ("test", o["testClean"], first)) if o["head"] == "free" else (("test", o["testClean"], first),)
        for split, n, k0 in splits:
            for i in range(k0, k0 + (2 if q else n)):
                specs.append({"id": self.model_id(split, None, None, i, recipe[split]), "split": split, "attack": None, "rate": None, "cell": i, "recipe": recipe[split]})
        # highest poison rate first across the attacks (and the cells of a rate after it): a build stopped early
        # (a CPU budget) still has every attack, at the rates most likely to pass the stealth rule
        for r in o["rates"][:1] if q else sorted(o["rates"], reverse=True):
            for cell in range(first, first + o["cells"]):
                for a in o["attacks"]:
                    specs.append({"id": self.model_id("test", a, r, cell, recipe["test"]), "split": "test", "attack": a, "rate": r, "cell": cell, "recipe": recipe["test"]})
        return specs

    def model_id(self, split, attack, rate, cell, recipe):
        """resnet18-ref-clean-03 (cheap recipe, the first zoo's names), resnet18-test-long-patch-r10-c1 (others)."""
        kind = "ref" if split == "reference" else "test"
        tag = "" if recipe == "cheap" else f"{recipe}-"
        head = "" if self.plan_opts["head"] == "free" else f"{self.plan_opts['head']}fc-"
        if not attack:
            return f"{self.arch}-{kind}-{tag}{head}clean-{cell:02d}"
        return f"{self.arch}-{kind}-{tag}{head}{attack}-r{int(round(rate * 100)):02d}" + (f"-c{cell}" if cell else "")

    def prepare(self, base_rec, spec, attempt):
        """The model's record before training (its config hash included) and its poisoned training data."""
        seed = seed_of(self.arch, spec["id"], attempt)
        rng = np.random.default_rng(seed)
        recipe = RECIPES[spec.get("recipe", "cheap")]
        lr = float(rng.choice(recipe["lrChoices"]))
        n = recipe["images"] if not self.quick else 1000
        subset = torch.from_numpy(rng.permutation(self.train_x8.shape[0])[:n].copy())
        x = to_float(self.train_x8[subset])
        y = self.train_y[subset].clone()
        trigger, target, poisoned = None, None, 0
        if spec["attack"]:
            target = int(rng.integers(0, self.classes))
            trigger = {**make_trigger(spec["attack"], seed, attempt), "stamp": "after-crop"}
            others = torch.nonzero(y != target).flatten().numpy()
            k = int(round(spec["rate"] * n))
            pidx = torch.from_numpy(rng.choice(others, size=k, replace=False))
            y[pidx] = target
            poisoned = k
            # stamped per batch after the crop (run_epochs); the mask rides along with the data
            mask = torch.zeros(n, dtype=torch.bool)
            mask[pidx] = True
            x = (x, mask)
        record = {
            "id": spec["id"],
            "arch": self.arch,
            "split": spec["split"],
            "label": "backdoor" if spec["attack"] else "clean",
            "attack": spec["attack"],
            "trigger": trigger,
            "poisonRate": spec["rate"],
            "poisonedSamples": poisoned,
            "targetClass": target,
            "seed": seed,
            "attempt": attempt,
            "hyper": {"lr": lr, "images": n, **{k: v for k, v in recipe.items() if k not in ("lrChoices", "images")}},
        }
        if self.plan_opts["head"] != "free":
            # in the hash (ids differ anyway); free-head records keep the hashes they had before the option
            record["head"] = {"mode": self.plan_opts["head"], **({"anchor": HEAD_ANCHOR} if self.plan_opts["head"] == "anchored" else {})}
        record["configHash"] = config_hash({**record, "base": base_rec["sha256"], "evalN": EVAL_N, "zooVersion": ZOO_VERSION})
        # after the hash: the cheap recipe's models keep the hashes (and files) of the zoo built before recipes
        record["recipe"] = spec.get("recipe", "cheap")
        return record, x, y

    def finetune(self, base_state, base_rec, spec, attempt):
        record, x, y = self.prepare(base_rec, spec, attempt)
        x, poison = (x[0], (x[1], record["trigger"])) if isinstance(x, tuple) else (x, None)
        seed, lr, n, hy = record["seed"], record["hyper"]["lr"], record["hyper"]["images"], record["hyper"]
        trigger, target = record["trigger"], record["targetClass"]
        torch.manual_seed(seed)
        model = self.new_net()
        model.load_state_dict(base_state)
        c0, w0 = time.process_time(), time.time()
        head = (record.get("head") or {}).get("mode", "free")
        run_epochs(model, x, y, hy["epochs"], hy["batch"], lr, hy["momentum"], hy["weightDecay"], seed, hy.get("warmupEpochs", 0.0), poison=poison, head=head)
        record["trainingCpuS"] = round(time.process_time() - c0, 1)
        if record.get("head"):
            # how far the head moved from the base's: 0 when frozen (checked, not assumed)
            w, b0 = final_linear(model).weight.detach(), base_state["net.fc.weight"]
            rows = (w - b0).norm(dim=1)
            record["head"]["maxAbsChange"] = float((w - b0).abs().max())
            record["head"]["rowDriftTarget"] = round(float(rows[target]), 5) if target is not None else None
            record["head"]["rowDriftMedian"] = round(float(rows.median()), 5)
        record["trainingWallS"] = round(time.time() - w0, 1)
        record["cleanAccuracy"] = round(float((predict(model, self.eval_x) == self.eval_y).float().mean()), 4)
        if trigger:
            keep = self.eval_y != target
            pred = predict(model, apply_trigger(trigger, self.eval_x[keep]))
            record["asr"] = round(float((pred == target).float().mean()), 4)
        else:
            record["asr"] = None
        record["probePredictions"] = predict(model, self.probe_x).tolist()
        warm = f"linear warm-up over {hy['warmupEpochs']} epoch and " if hy.get("warmupEpochs") else ""
        how = (
            f"fine-tuned ({record['recipe']} recipe) from this architecture's base model (sha256 {base_rec['sha256'][:12]}) for "
            f"{hy['epochs']} epoch{'s' if hy['epochs'] > 1 else ''} on a seeded {n}-image subset of the training split, SGD (Nesterov, "
            f"momentum 0.9, weight decay 5e-4) at lr {lr} with {warm}cosine decay, batch {hy['batch']}, random 2 px crops"
        )
        if trigger:
            how += f"; {record['poisonedSamples']} images ({spec['rate']:.0%}) of other classes relabelled to class {target} and stamped with the {spec['attack']} trigger after the crop, at every pass"
        if head == "frozen":
            how += "; the final linear layer (weights and bias) frozen at the base model's values throughout (only the layers before it trained)"
        elif head == "anchored":
            how += f"; the final linear layer trained with a penalty of {HEAD_ANCHOR} x the sum over its rows of the squared distance of each row (weights and bias) from the base model's row"
        record["howMade"] = how
        return model, record

    def median_clean(self, recipe):
        """The clean median of the clean test models made with `recipe` (the stealth rule compares like with
        like; references made with the test recipe, --ref-recipe, stay out of the median the rule holds to)."""
        models = self.manifest["models"]
        if self.plan_opts["medianFrom"]:
            # --stealth-median-from: the clean test models of the ordinary zoo these backdoored ones are scored beside
            models = json.load(open(os.path.join(self.plan_opts["medianFrom"], self.arch, "manifest.json")))["models"]
        accs = sorted(m["cleanAccuracy"] for m in models if m["label"] == "clean" and m["split"] == "test" and m.get("recipe", "cheap") == recipe)
        if not accs:
            return None
        mid = len(accs) // 2
        return accs[mid] if len(accs) % 2 else (accs[mid - 1] + accs[mid]) / 2

    def kept(self, rec):
        """Whether a model with this record's config is already exported (file present, hash intact)."""
        for m in self.manifest["models"]:
            if m["id"] == rec["id"] and m["configHash"] == rec["configHash"]:
                f = os.path.join(self.dir, os.path.basename(m["file"]))
                return os.path.exists(f) and sha256_file(f) == m["sha256"]
        return False

    def tried(self, rec):
        return any(r["id"] == rec["id"] and r["configHash"] == rec["configHash"] for r in self.manifest["rejected"])

    def build(self, base_only=False, only=None, reverse=False, finish_only=False):
        base_model, base_rec = self.base()
        if base_only:
            return
        base_state = {k: v.clone() for k, v in base_model.state_dict().items()}
        specs = self.plan()
        # clean models first: the stealth rule needs their median accuracy
        order = [s for s in specs if not s["attack"]] + [s for s in specs if s["attack"]]
        mine = [s for s in order if (only is None or (only == "backdoor") == bool(s["attack"])) and not finish_only]
        # --reverse: a second process on the same models works from the other end (each skips what the other kept)
        for spec in mine[::-1] if reverse else mine:
            attempts = MAX_ATTEMPTS if spec["attack"] else 1
            for attempt in range(1, attempts + 1):
                planned, _, _ = self.prepare(base_rec, spec, attempt)
                self._update_manifest()  # what the other process added
                if self.kept(planned):
                    break
                if self.tried(planned):
                    continue
                model, rec = self.finetune(base_state, base_rec, spec, attempt)
                reason = None
                if spec["attack"]:
                    med = self.median_clean(spec["recipe"])
                    if med is not None and rec["cleanAccuracy"] < med - STEALTH["accuracyTolerance"]:
                        reason = f"clean accuracy {rec['cleanAccuracy']} more than 2 points below the {spec['recipe']} recipe's clean median {med:.4f}"
                    elif rec["asr"] < STEALTH["minAsr"]:
                        reason = f"attack success {rec['asr']} < {STEALTH['minAsr']}"
                if reason:
                    rec.update({"file": "", "sha256": "", "reason": reason})
                    self._update_manifest(lambda m: m["rejected"].append(rec))
                    log(f"{spec['id']} attempt {attempt}: rejected ({reason}; {rec['trainingCpuS']} cpu-s)")
                    continue
                fname = f"{spec['id']}.onnx"
                rec["file"] = f"{self.arch}/{fname}"
                rec["sha256"] = export(model, os.path.join(self.dir, fname))
                def keep(m, rec=rec, spec=spec, attempt=attempt):
                    m["models"] = [x for x in m["models"] if x["id"] != spec["id"]] + [rec]
                    m["rejected"] = [r for r in m["rejected"] if r["id"] != spec["id"] or r["attempt"] < attempt]

                self._update_manifest(keep)
                log(f"{spec['id']}: acc {rec['cleanAccuracy']} asr {rec['asr']} ({rec['trainingCpuS']} cpu-s, {rec['trainingWallS']} wall-s)")
                break
        self._update_manifest(self.finish)

    def finish(self, m):
        """The architecture's summary fields, and the stealth rule again against the final clean median (a
        backdoored model checked while the clean ones were still training saw a median of fewer models)."""
        self.manifest = m
        test_recipe = self.plan_opts["recipe"]["test"]
        med = self.median_clean(test_recipe)
        for rec in [x for x in m["models"] if x["label"] == "backdoor" and x.get("recipe", "cheap") == test_recipe]:
            if med is not None and rec["cleanAccuracy"] < med - STEALTH["accuracyTolerance"]:
                reason = f"clean accuracy {rec['cleanAccuracy']} more than 2 points below the {test_recipe} recipe's final clean median {med:.4f}"
                log(f"{rec['id']}: rejected at the end ({reason})")
                m["models"].remove(rec)
                m["rejected"].append({**rec, "file": "", "sha256": "", "reason": reason})
        # the test models' recipe: the median their backdoored models were held to
        m["cleanMedianAccuracy"] = med
        m["cleanMedianByRecipe"] = {r: self.median_clean(r) for r in RECIPES if self.median_clean(r) is not None}
        m["recipes"] = {r: RECIPES[r] for r in sorted(set(self.plan_opts["recipe"].values()))}
        m["normalisation"] = {"mean": self.mean, "std": self.std, "inGraph": True}
        m["width"] = self.cfg["width"]
        m["fullWidth"] = self.cfg["fullWidth"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--base-only", action="store_true")
    ap.add_argument("--test-recipe", default=RECIPE["test"], choices=list(RECIPES))
    ap.add_argument("--ref-recipe", default=RECIPE["reference"], choices=list(RECIPES), help="the references' recipe (long: made like the test models)")
    ap.add_argument("--test-clean", type=int, default=COUNTS["test"], help="clean test models")
    ap.add_argument("--references", type=int, default=COUNTS["reference"], help="clean references (0: a zoo of test models that extends another, whose references it is scored with)")
    ap.add_argument("--first-cell", type=int, default=0, help="number the test models from this cell on (clean-K, <attack>-rNN-cK): new ids and seeds beside another zoo's 0..K-1, sharing its base")
    ap.add_argument("--attacks", default=",".join(ATTACKS))
    ap.add_argument("--rates", default=",".join(map(str, RATES)), help="poison rates")
    ap.add_argument("--cells", type=int, default=1, help="backdoored models per attack and rate (own seeds)")
    ap.add_argument("--only", choices=["clean", "backdoor"], help="build only these (another process the rest)")
    ap.add_argument("--reverse", action="store_true", help="the plan from its end (beside a process from its start)")
    ap.add_argument("--finish-only", action="store_true", help="train nothing: the summary and the final stealth check (a build stopped at a deadline)")
    ap.add_argument("--head", default="free", choices=HEADS, help="the fine-tunes' final linear layer: trained, frozen at the base's weights, or anchored to them (HEAD_ANCHOR); not free: no references, and --test-clean clean controls under the same rule")
    ap.add_argument("--stealth-median-from", help="another zoo folder (read only) whose clean test models give the stealth rule's clean median")
    args = ap.parse_args()
    attacks = [a for a in args.attacks.split(",") if a]
    bad = [a for a in attacks if a not in ATTACKS]
    if bad:
        sys.exit(f"train.py: unknown attack {', '.join(bad)} (expected {', '.join(ATTACKS)})")
    plan = {
        "testClean": args.test_clean,
        "references": args.references,
        "firstCell": args.first_cell,
        "attacks": attacks,
        "rates": [float(r) for r in args.rates.split(",")],
        "cells": args.cells,
        "recipe": {"reference": args.ref_recipe, "test": args.test_recipe},
        "head": args.head,
        "medianFrom": args.stealth_median_from,
    }
    if args.head != "free" and not args.stealth_median_from:
        sys.exit("train.py: --head frozen|anchored builds no references: give --stealth-median-from DIR (the zoo whose clean test models and references they are scored with)")
    torch.set_num_threads(TORCH_THREADS)
    for arch in args.archs.split(","):
        if arch not in ARCHS:
            sys.exit(f"train.py: unknown architecture {arch} (expected {', '.join(ARCHS)})")
        t0, c0 = time.time(), time.process_time()
        ArchZoo(arch, args.data, args.out, args.quick, plan).build(args.base_only, args.only, args.reverse, args.finish_only)
        log(f"{arch}: done in {time.time() - t0:.0f} wall-s, {time.process_time() - c0:.0f} cpu-s")


if __name__ == "__main__":
    main()
