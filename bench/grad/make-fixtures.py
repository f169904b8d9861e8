"""Gradient parity fixtures for src/model/grad (`npm run grad:fixtures`; CI has no torch, so the results are
committed under __tests__/fixtures/grad/ and __tests__/model/grad/parity.test.ts compares against them).

For each architecture of the zoo (bench/zoo/nets.ts: MLP 196-64-32-10, CNN with BatchNorm) and of
bench:torch (bench/torch/train.py: LeNet+BN, the 784-256-128 MLP, the rgb convnet, digits8 with global
average pooling) and MobileNetV2's pieces at toy size (MobileBlocks: depthwise convolutions, ReLU6, an inverted
residual), this script builds the network in PyTorch with seeded weights, exports it with
torch.onnx (EXPORTS below: the TorchScript exporter at opset 17, and 20 for digits8, with and without
constant folding; the dynamo exporter with and without its optimiser), and computes with autograd, for fixed inputs, several objectives and their gradients with respect
to the input or to a prelude's parameters (types.ts GradientSpec, written here as JSON so both sides
compute the same thing). The zoo's two architectures are also written by the project's own ONNX writer in
the test, from the weights stored here.

Output per architecture: `<arch>-<export>.onnx.gz` and `<arch>.fixture.gz` (the JSON, then the arrays it
points into; see Blob). Size (about 380 KB in all): weights are +-b/2 with random signs (b a power of two
near the He bound), so the gzipped ONNX files hold about a bit a weight; the gradients do not need trained
weights, only non-degenerate ones. Inputs are continuous uniform in (0.02, 0.98).

Run: PYTHONPATH=bench/.cache/torch-site python3 bench/grad/make-fixtures.py --out __tests__/fixtures/grad
"""

import argparse
import gzip
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "torch"))
import train  # noqa: E402  (bench:torch's architectures and its TorchScript-exporter workaround)

torch.set_num_threads(1)

# ---------------------------------------------------------------- the zoo's two architectures (bench/zoo/nets.ts)


class ZooMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(196, 64)
        self.l2 = nn.Linear(64, 32)
        self.l3 = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


class ZooCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8, eps=1e-5)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(144, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class MobileBlocks(nn.Module):
    """MobileNetV2's pieces at toy size (bench/realsize/nets.py has the real one): ReLU6 (exported as Clip
    with its bounds in Constant nodes), depthwise 3x3 convolutions (group = channels) at stride 1 and 2, an
    inverted residual with its skip Add, a 1x1 head conv and global average pooling."""

    def __init__(self):
        super().__init__()

        def cbr(cin, cout, k, stride=1, groups=1):
            return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]

        self.stem = nn.Sequential(*cbr(3, 8, 3))
        self.block1 = nn.Sequential(*cbr(8, 24, 1), *cbr(24, 24, 3, 1, 24), nn.Conv2d(24, 8, 1, bias=False), nn.BatchNorm2d(8))
        self.block2 = nn.Sequential(*cbr(8, 24, 1), *cbr(24, 24, 3, 2, 24), nn.Conv2d(24, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.head = nn.Sequential(*cbr(16, 32, 1))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.block1(x)
        x = self.head(self.block2(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# state_dict names -> the zoo's parameter names (bench/zoo/export.ts zooLayers), for the writer's copy.
ZOO_NAMES = {
    "l1.weight": "w1", "l1.bias": "b1", "l2.weight": "w2", "l2.bias": "b2", "l3.weight": "w3", "l3.bias": "b3",
    "c1.weight": "k1", "bn.weight": "gamma", "bn.bias": "beta", "bn.running_mean": "mean",
    "bn.running_var": "variance", "c2.weight": "k2", "c2.bias": "bk2", "fc.weight": "w3", "fc.bias": "b3",
}

ARCHS = {
    "zoo-mlp": (ZooMLP, (1, 14, 14)),
    "zoo-cnn": (ZooCNN, (1, 14, 14)),
    "lenet": (train.LeNet, (1, 28, 28)),
    "mlp": (train.MLP, (1, 28, 28)),
    "rgb": (train.RGBNet, (3, train.RGB_SIDE, train.RGB_SIDE)),
    "digits8": (train.Digits8Net, (1, train.DIGITS8_SIDE, train.DIGITS8_SIDE)),
    "mobile": (MobileBlocks, (3, 12, 12)),
}
# Which exports each architecture gets. torchscript: torch.onnx.export(dynamo=False) at that opset, which
# folds eval BatchNorm into the Conv before it; "torchscript-raw": the same without constant folding, BN
# kept. dynamo: torch.onnx.export(dynamo=True) (opset 20 in torch 2.13; its optimiser folds BN too);
# "dynamo-raw": optimize=False, BN kept and the batch-size arithmetic left as Shape/Gather/Concat nodes.
# writer: the zoo's nets through the project's own ONNX writer (the test builds them from the weights).
# Left out for size (every byte here is committed): the optimised dynamo export of LeNet and of the big MLP
# (the same exporter is covered by the zoo's MLP, the rgb net and digits8).
EXPORTS = {
    "zoo-mlp": [("torchscript", 17), ("dynamo", None), ("writer", None)],
    "zoo-cnn": [("torchscript", 17), ("dynamo", None), ("dynamo-raw", None), ("writer", None)],
    "lenet": [("torchscript", 17), ("torchscript-raw", 17), ("dynamo-raw", None)],
    "mlp": [("torchscript", 17)],
    "rgb": [("torchscript", 17), ("dynamo", None)],
    "digits8": [("torchscript", 17), ("torchscript", 20), ("dynamo", None), ("dynamo-raw", None)],
    "mobile": [("torchscript", 17), ("torchscript-raw", 17)],
}
# Batch sizes where they differ from 4: the larger inputs keep the fixture files small.
BATCH = {"mlp": 2, "lenet": 2, "rgb": 1, "mobile": 2}

# ---------------------------------------------------------------- weights


def quantise_(t, rng):
    """Weights +-b/2 with random signs, b a power of two near the layer's He bound (in place): random
    signs keep every unit alive (the biases differ per unit), and the file compresses to about a bit a weight."""
    fan_in = t[0].numel() if t.dim() > 1 else t.numel()
    bound = 2.0 ** round(math.log2(math.sqrt(6.0 / max(1, fan_in))))
    q = rng.integers(0, 2, size=tuple(t.shape))
    t.copy_(torch.from_numpy(((q - 0.5) * bound).astype(np.float32)))


def seeded(arch, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = ARCHS[arch][0]()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.from_numpy(((rng.integers(0, 16, size=p.shape) - 7.5) / 64).astype(np.float32)))
            else:
                quantise_(p, rng)
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.from_numpy((0.5 + rng.integers(0, 16, size=c) / 16).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(((rng.integers(0, 16, size=c) - 7.5) / 32).astype(np.float32)))
                m.running_mean.copy_(torch.from_numpy(((rng.integers(0, 16, size=c) - 7.5) / 32).astype(np.float32)))
                m.running_var.copy_(torch.from_numpy((0.5 + rng.integers(0, 16, size=c) / 8).astype(np.float32)))
    net.eval()
    return net


# ---------------------------------------------------------------- export


def export(net, arch, exporter, opset, path):
    shape = (1,) + ARCHS[arch][1]
    if exporter.startswith("torchscript"):
        raw = exporter.endswith("-raw")
        torch.onnx.export(
            net,
            (torch.zeros(*shape),),
            path,
            dynamo=False,
            opset_version=opset,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
            do_constant_folding=not raw,
            training=torch.onnx.TrainingMode.PRESERVE if raw else torch.onnx.TrainingMode.EVAL,
        )
    else:
        torch.onnx.export(
            net,
            (torch.zeros(*shape),),
            path,
            dynamo=True,
            input_names=["input"],
            output_names=["logits"],
            dynamic_shapes=({0: torch.export.Dim("N")},),
            verbose=False,
            optimize=not exporter.endswith("-raw"),
        )
        import onnx

        m = onnx.load(path)  # with its external .onnx.data
        onnx.save(m, path, save_as_external_data=False)
        if os.path.exists(path + ".data"):
            os.remove(path + ".data")
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def onnx_info(data):
    """(ai.onnx opset, number of BatchNormalization nodes) of ONNX bytes, with the onnx package if present."""
    try:
        import onnx
    except ImportError:
        return None, None
    m = onnx.load_from_string(data)
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    return opset, sum(1 for n in m.graph.node if n.op_type == "BatchNormalization")


# ---------------------------------------------------------------- objectives (the GradientSpec semantics)


def per_sample_mean(t):
    return (t.flatten(1).sum(1) if t.dim() > 1 else t).mean()


def tv(x, p):
    dh = x[:, :, 1:, :] - x[:, :, :-1, :]
    dw = x[:, :, :, 1:] - x[:, :, :, :-1]
    mag = (lambda d: d * d) if p == 2 else (lambda d: d.abs())
    return per_sample_mean(mag(dh)) + per_sample_mean(mag(dw))


def gaussian(sigma):
    r = max(1, math.ceil(2 * sigma))
    w = np.exp(-((np.arange(2 * r + 1) - r) ** 2) / (2 * sigma * sigma))
    return (w / w.sum()).astype(np.float32), r


def prelude(kind, params, data, opts):
    c = data.shape[1]
    v = {}
    if kind == "identity":
        x = params["data"]
    elif kind == "patch":
        v["mask"] = torch.sigmoid(params["maskLogits"])
        v["pattern"] = torch.sigmoid(params["patternLogits"])
        x = (1 - v["mask"]) * data + v["mask"] * v["pattern"]
    elif kind == "blend":
        v["alpha"] = torch.sigmoid(params["alphaLogit"])
        v["pattern"] = torch.sigmoid(params["patternLogits"])
        x = (1 - v["alpha"]) * data + v["alpha"] * v["pattern"]
    elif kind == "colour":
        x = data * (1 + params["contrast"]) + params["brightness"]
    elif kind == "additive":
        d = params["delta"]
        if "blurSigma" in opts:
            k, r = gaussian(opts["blurSigma"])
            kt = torch.from_numpy(k)
            d = F.conv2d(d, kt.view(1, 1, -1, 1).repeat(c, 1, 1, 1), padding=(r, 0), groups=c)
            d = F.conv2d(d, kt.view(1, 1, 1, -1).repeat(c, 1, 1, 1), padding=(0, r), groups=c)
        v["perturbation"] = d
        x = data + d
    else:
        raise ValueError(kind)
    if "clamp" in opts:
        x = torch.clamp(x, opts["clamp"][0], opts["clamp"][1])
    if "normalize" in opts:
        mean = torch.tensor(opts["normalize"]["mean"]).view(1, -1, 1, 1)
        std = torch.tensor(opts["normalize"]["std"]).view(1, -1, 1, 1)
        x = (x - mean) / std
    v["input"] = x
    return x, v


def class_rows(target, feeds, n):
    if isinstance(target, dict):
        return torch.tensor(feeds[target["feed"]], dtype=torch.long)
    return torch.full((n,), target, dtype=torch.long)


def bn_stats(net, captured):
    total = 0
    for m, h in captured:
        mean = h.mean(dim=[0, 2, 3])
        var = h.var(dim=[0, 2, 3], unbiased=False)
        total = total + torch.linalg.vector_norm(mean - m.running_mean) + torch.linalg.vector_norm(var - m.running_var)
    return total


def evaluate(net, spec, feeds, data):
    """The objective of `spec` (GradientSpec JSON) and its gradients, by autograd."""
    params = {}
    pre = spec.get("prelude")
    if pre:
        for k, val in feeds.items():
            if isinstance(val, np.ndarray) and k != "data":
                params[k] = torch.from_numpy(val).requires_grad_(True)
        if pre["kind"] == "identity":
            params["data"] = torch.from_numpy(data).requires_grad_(True)
            x, values = prelude("identity", params, params["data"], pre)
        else:
            x, values = prelude(pre["kind"], params, torch.from_numpy(data), pre)
        x.retain_grad()
    else:
        x = torch.from_numpy(data).requires_grad_(True)
        values = {"input": x}
    captured = []
    hooks = [
        m.register_forward_pre_hook(lambda mod, inp: captured.append((mod, inp[0])))
        for m in net.modules()
        if isinstance(m, nn.BatchNorm2d)
    ]
    logits = net(x)
    for h in hooks:
        h.remove()
    n = logits.shape[0]

    def ref(r):
        if r == "input":
            return values["input"]
        if "prelude" in r:
            key = r["prelude"]
            return params[key] if key in params else values[key]
        raise ValueError(r)

    terms = []
    total = 0
    for t in spec["terms"]:
        k = t["kind"]
        if k == "logit":
            val = logits[torch.arange(n), class_rows(t["target"], feeds, n)].mean()
        elif k == "logSoftmax":
            val = F.log_softmax(logits, 1)[torch.arange(n), class_rows(t["target"], feeds, n)].mean()
        elif k == "crossEntropy":
            val = F.cross_entropy(logits, class_rows(t["target"], feeds, n))
        elif k == "l1":
            val = per_sample_mean(ref(t["of"]).abs())
        elif k == "l2":
            r = ref(t["of"])
            val = per_sample_mean(r * r)
        elif k == "l2Bound":
            r = ref(t["of"])
            s = (r * r).flatten(1).sum(1) if r.dim() > 1 else r * r
            val = F.relu(s - t["bound"] ** 2).mean()
        elif k == "tv":
            val = tv(ref(t["of"]), t.get("p", 1))
        elif k == "bnStats":
            val = bn_stats(net, captured)
        else:
            raise ValueError(k)
        terms.append(float(val.detach()) if torch.is_tensor(val) else float(val))
        w = t.get("weight", 1)
        total = total + val * (feeds[w["feed"]] if isinstance(w, dict) else w)
    total.backward()
    wrt = spec.get("wrt") or ([{"prelude": p} for p in params] if pre else ["input"])
    grads = {}
    for r in wrt:
        if r == "input":
            grads["input"] = x.grad
        else:
            grads[r["prelude"]] = params[r["prelude"]].grad
    return float(total), terms, {k: g.detach().numpy() for k, g in grads.items()}, logits.detach().numpy()


# ---------------------------------------------------------------- cases per architecture


def q32(x):
    """Rounded to 1/32 within +-3.97 (one byte each in the fixture; any value is as good as another here)."""
    return (np.clip(np.round(np.asarray(x) * 32), -127, 127) / 32).astype(np.float32)


def cases_for(arch, shape, n, rng, has_bn):
    c, h, w = shape
    classes = 10
    targets = [int(t) for t in rng.integers(0, classes, size=n)]
    norm = {"normalize": {"mean": [float(v) for v in train.RGB_MEAN], "std": [float(v) for v in train.RGB_STD]}} if arch == "rgb" else {}
    out = [
        {"name": "logit", "spec": {"terms": [{"kind": "logit", "target": int(rng.integers(0, classes))}]}, "feeds": {}},
        {
            "name": "cross-entropy per-sample targets",
            "spec": {"terms": [{"kind": "crossEntropy", "target": {"feed": "targets"}}]},
            "feeds": {"targets": targets},
        },
        {
            "skip": arch == "rgb",  # for size: the rgb net has four prelude cases besides
            "name": "log-softmax + l2 + tv on the input",
            "spec": {
                "terms": [
                    {"kind": "logSoftmax", "target": int(rng.integers(0, classes))},
                    {"kind": "l2", "of": "input", "weight": 0.01},
                    {"kind": "tv", "of": "input", "p": 2, "weight": 0.05},
                ]
            },
            "feeds": {},
        },
        {
            "name": "neural cleanse: patch prelude, cross-entropy + lambda * l1(mask)",
            "spec": {
                "prelude": {"kind": "patch", "clamp": [0, 1], **norm},
                "terms": [
                    {"kind": "crossEntropy", "target": int(rng.integers(0, classes))},
                    {"kind": "l1", "of": {"prelude": "mask"}, "weight": {"feed": "lambda"}},
                ],
            },
            "feeds": {
                "maskLogits": q32(rng.normal(0, 1.5, size=(1, 1, h, w))),
                "patternLogits": q32(rng.normal(0, 1.5, size=(1, c, h, w))),
                "lambda": 0.003,
            },
        },
    ]
    if arch in ("digits8", "rgb"):
        out.append(
            {
                "name": "blend prelude",
                "spec": {
                    "prelude": {"kind": "blend", **norm},
                    "terms": [{"kind": "logit", "target": int(rng.integers(0, classes))}],
                },
                "feeds": {
                    "alphaLogit": q32(rng.normal(-1, 0.5, size=(1,))),
                    "patternLogits": q32(rng.normal(0, 1.5, size=(1, c, h, w))),
                },
            }
        )
        out.append(
            {
                "name": "colour prelude",
                "spec": {
                    "prelude": {"kind": "colour", **norm},
                    "terms": [{"kind": "crossEntropy", "target": {"feed": "targets"}}],
                },
                "feeds": {
                    "contrast": q32(rng.normal(0, 0.2, size=(1, c, 1, 1))),
                    "brightness": q32(rng.normal(0, 0.1, size=(1, c, 1, 1))),
                    "targets": targets,
                },
            }
        )
        out.append(
            {
                "name": "additive prelude, blurred, with an l2 bound",
                "spec": {
                    "prelude": {"kind": "additive", "blurSigma": 1.0, **norm},
                    "terms": [
                        {"kind": "crossEntropy", "target": int(rng.integers(0, classes))},
                        {"kind": "l2Bound", "of": {"prelude": "perturbation"}, "bound": 0.5, "weight": 2.0},
                    ],
                },
                "feeds": {"delta": q32(rng.normal(0, 0.3, size=(1, c, h, w)))},
            }
        )
    if has_bn:
        out.append(
            {
                "name": "deepinversion: identity prelude, logit + bnStats + tv + l2",
                "spec": {
                    "prelude": {"kind": "identity"},
                    "terms": [
                        {"kind": "crossEntropy", "target": {"feed": "targets"}},
                        {"kind": "bnStats", "weight": 0.1},
                        {"kind": "tv", "of": "input", "p": 1, "weight": 0.001},
                        {"kind": "l2", "of": "input", "weight": 0.0001},
                    ],
                },
                "feeds": {"targets": targets},
                "requiresBn": True,
            }
        )
    return [c for c in out if not c.pop("skip", False)]


def write_gz(path, data):
    """gzip with no timestamp, so the same fixtures give the same bytes."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(data)


class Blob:
    """The fixture's arrays, stored after its JSON as raw little-endian bytes (gzip compresses raw bytes; it
    could not do much with base64 text). A tensor in the JSON is {"dims", "offset", "type"}: f32 (float32)
    or i8 (bytes k meaning k / 32, the parameter feeds)."""

    def __init__(self):
        self.parts = []
        self.size = 0

    def add(self, a, dtype, kind):
        raw = np.ascontiguousarray(a, dtype=dtype).tobytes()
        pad = (-self.size) % 4  # float32 arrays start 4-byte aligned
        if pad:
            self.parts.append(b"\0" * pad)
            self.size += pad
        ref = {"dims": list(np.shape(a)), "offset": self.size, "type": kind}
        self.parts.append(raw)
        self.size += len(raw)
        return ref

    def f32(self, a):
        return self.add(a, "<f4", "f32")

    def expected(self, a):
        """An expected value rounded to 16 significant bits (relative error <= 2^-16, far below the 1e-4
        the test allows), so gzip compresses its low bytes."""
        bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
        rounded = ((bits.astype(np.uint64) + 0x80) & 0xFFFFFF00).astype(np.uint32).view(np.float32)
        return self.f32(rounded.reshape(np.shape(a)))

    def feed(self, a):
        k = np.round(np.asarray(a) * 32)
        assert np.all(np.abs(k) <= 127) and np.allclose(k / 32, a), "feeds are multiples of 1/32 within +-3.97"
        return self.add(k, "i1", "i8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="__tests__/fixtures/grad")
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--no-dynamo", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    summary = []
    for arch in args.archs.split(","):
        # by the architecture's place in ARCHS, so that one architecture regenerated alone keeps its seed
        seed = 1000 + list(ARCHS).index(arch)
        net = seeded(arch, seed)
        shape = ARCHS[arch][1]
        n = BATCH.get(arch, 4)
        rng = np.random.default_rng(seed + 1)
        # continuous inputs (float32, stored as such): with the two-level weights, inputs on a lattice gave
        # pre-activations on a lattice, whose exact ties in a max-pool window rounding resolves differently
        data = rng.uniform(0.02, 0.98, size=(n,) + shape).astype(np.float32)
        blob = Blob()
        models = []
        for exporter, opset in EXPORTS[arch]:
            if exporter == "writer":
                weights = {ZOO_NAMES[k2]: blob.f32(v.detach().numpy()) for k2, v in net.state_dict().items() if k2 in ZOO_NAMES}
                models.append({"exporter": "writer", "arch": arch[len("zoo-"):], "weights": weights})
                continue
            if exporter == "dynamo" and args.no_dynamo:
                continue
            tag = exporter if opset is None else exporter.replace("torchscript", f"torchscript{opset}")
            try:
                onnx_bytes = export(net, arch, exporter, opset, os.path.join(args.out, f"{arch}-{tag}.tmp.onnx"))
            except Exception as e:  # the dynamo exporter "where it works": record why not
                print(f"{arch}: {tag} export failed: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
                models.append({"exporter": tag, "failed": f"{type(e).__name__}: {str(e)[:300]}"})
                continue
            fname = f"{arch}-{tag}.onnx.gz"
            write_gz(os.path.join(args.out, fname), onnx_bytes)
            opset_found, bn = onnx_info(onnx_bytes)
            models.append({"exporter": tag, "onnx": fname, "opset": opset_found or opset, "bnNodes": bn})
        has_bn = any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
        cases = []
        for case in cases_for(arch, shape, n, rng, has_bn):
            objective, terms, grads, logits = evaluate(net, case["spec"], case["feeds"], data)
            feeds = {}
            for name, val in case["feeds"].items():
                feeds[name] = blob.feed(val) if isinstance(val, np.ndarray) else val
            cases.append(
                {
                    "name": case["name"],
                    "spec": case["spec"],
                    "feeds": feeds,
                    "requiresBn": case.get("requiresBn", False),
                    "objective": objective,
                    "terms": terms,
                    "grads": {k2: blob.expected(g) for k2, g in grads.items()},
                    "logits": blob.expected(logits),
                }
            )
        doc = {
            "arch": arch,
            "torch": torch.__version__,
            "seed": seed,
            "input": {"name": "input", **blob.f32(data)},
            "models": models,
            "cases": cases,
        }
        # one file: the JSON's length (uint32 LE), the JSON, then the arrays
        head = json.dumps(doc).encode()
        write_gz(
            os.path.join(args.out, f"{arch}.fixture.gz"),
            len(head).to_bytes(4, "little") + head + b"".join(blob.parts),
        )
        summary.append(f"{arch}: {len(models)} models, {len(cases)} cases")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
