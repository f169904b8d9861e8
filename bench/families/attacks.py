"""The attack families of bench:families (issue #20, item 1): trigger parameters drawn from a seed, the
poisoning of a training set, and the triggered test set an attack's success is measured on.

Every family poisons training data (no weight editing); images are float32 [n,C,H,W] in [0,1].

  badnets        control: a 3-4 px checkerboard/solid patch in a corner, labels flipped to the target.
  freq           FTrojan-style frequency trigger: a fixed offset added to two DCT coefficients (one mid, one
                 high frequency) of the whole image, in the Cb and Cr planes of YCbCr for RGB (the Y plane for
                 grey), i.e. an additive pattern of a few grey levels; labels flipped.
  invisible-linf a fixed random +-eps pattern over the whole image (||d||inf = eps, 10-15 grey levels).
  invisible-l2   a universal adversarial pattern toward the target, optimised on a surrogate clean model of the
                 same architecture and projected onto an L2 ball (the "inverted trigger" of the literature).
  trojannn       TrojanNN-style watermark: a fixed-shape mask in a corner whose content is optimised to excite
                 two chosen feature neurons of the model's own clean pre-training, which is then fine-tuned on
                 poisoned data.
  sig            SIG (Barni et al. 2019): a horizontal sinusoid x + D sin(2 pi f col / W), clean-label (only
                 target-class images carry it, no label flipped); success = the sinusoid sends other classes'
                 test images to the target. A third try, if needed, flips labels (poison-label SIG, recorded).
  filter         a whole-image filter: contrast (washed out), brightness, colour (RGB: a tint matrix; grey: a
                 gamma curve), labels flipped.
  accessory      a small object of fixed shape (two discs joined by a bar, "sunglasses") in a fixed colour,
                 pasted at a random scale (0.8-1.25) and a random position per image, within 4 px of a per-model
                 anchor (where glasses sit on a face); labels flipped.
  all-to-all     a corner patch that maps label y to y+1 mod K; success = share of triggered test images
                 classified y+1.
  clean-label    Turner et al. 2019: target-class images made hard by a PGD perturbation (Linf 16/255) on a
                 surrogate clean model, then stamped with a corner checkerboard, labels kept.
  dynamic        input-aware trigger: a fixed seeded convolutional generator draws a different pattern and
                 mask per input (the mask follows the image's own content); labels flipped, plus "cross"
                 examples (one input's pattern on another input, true label kept) so that a pattern only works
                 on its own input. The generator is random, not trained jointly as in Nguyen & Tran 2020.
  adaptive       an attacker trained against our search: a random-binary 4x4 patch at a fixed interior place
                 (the trigger), and as many again decoys with their TRUE labels: generic candidates of the
                 kinds src/selfcheck/triggers.ts stamps (solid, inverted, checker and random patches of sizes
                 2-6 anywhere, uniform-noise blends alpha 0.1-0.3, 4-16 sparse pixels), so that only the exact
                 trigger flips.
"""

import numpy as np
import torch
import torch.nn.functional as F

FAMILIES = [
    "badnets",
    "freq",
    "invisible-linf",
    "invisible-l2",
    "trojannn",
    "sig",
    "filter",
    "accessory",
    "all-to-all",
    "clean-label",
    "dynamic",
    "adaptive",
]
# Families whose poisoning needs a surrogate clean model of the architecture (the attacker's own, not a zoo model).
NEEDS_SURROGATE = {"invisible-l2", "clean-label"}
FILTER_KINDS = ["contrast", "brightness", "colour"]


def _clip(x):
    return np.clip(x, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- fixed additive patterns
def dct_matrix(n):
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    d[0] /= np.sqrt(2.0)
    return d


def freq_pattern(p, c, side):
    """The pixel-space pattern of FTrojan's coefficient offsets (the DCT is linear, so adding to coefficients
    adds a fixed pattern): coefficients on the 0-255 scale, pattern in [0,1] units."""
    d = dct_matrix(side)
    plane = np.zeros((side, side))
    for u, v in p["coeffs"]:
        plane += p["magnitude"] * np.outer(d[u], d[v])
    plane /= 255.0
    if c == 1:
        return plane[None].astype(np.float32)
    # the same offset in Cb and Cr; YCbCr -> RGB: R = Y + 1.402 Cr, G = Y - 0.344 Cb - 0.714 Cr, B = Y + 1.772 Cb
    return np.stack([1.402 * plane, (-0.344136 - 0.714136) * plane, 1.772 * plane]).astype(np.float32)


def sig_pattern(p, c, side):
    col = np.arange(side)
    row = p["delta"] * np.sin(2 * np.pi * col * p["freq"] / side)
    return np.broadcast_to(row[None, None, :], (c, side, side)).astype(np.float32)


def linf_pattern(p, c, side):
    rng = np.random.default_rng(p["patternSeed"])
    return (p["eps"] * rng.choice([-1.0, 1.0], size=(c, side, side))).astype(np.float32)


# ---------------------------------------------------------------- patches and shapes
def checker(size, value, phase=0):
    return (((np.add.outer(np.arange(size), np.arange(size)) + phase) % 2) == 0).astype(np.float32) * value


def corner_origin(corner, size, side, margin=1):
    r0 = margin if corner[0] == "t" else side - margin - size
    c0 = margin if corner[1] == "l" else side - margin - size
    return r0, c0


def stamp_corner_patch(x, p):
    side = x.shape[-1]
    s = p["size"]
    r0, c0 = corner_origin(p["corner"], s, side)
    x = x.copy()
    block = checker(s, p["intensity"]) if p["fill"] == "checker" else np.full((s, s), p["intensity"], np.float32)
    x[..., r0 : r0 + s, c0 : c0 + s] = block
    return x


def sunglasses_mask(width):
    """Two discs joined by a bridge, `width` px wide and about width/2.2 high: the accessory's shape."""
    h = max(3, int(round(width / 2.2)))
    yy, xx = np.mgrid[0:h, 0:width].astype(np.float32) + 0.5
    r = h / 2.0
    left = (yy - r) ** 2 + (xx - r) ** 2 <= r * r
    right = (yy - r) ** 2 + (xx - (width - r)) ** 2 <= r * r
    bridge = (np.abs(yy - r * 0.8) <= max(0.5, h / 8)) & (xx >= r) & (xx <= width - r)
    return (left | right | bridge).astype(np.float32)


def stamp_accessory(x, p, rng):
    x = x.copy()
    side = x.shape[-1]
    colour = np.asarray(p["colour"], dtype=np.float32)[:, None, None]
    for i in range(len(x)):
        w = int(round(p["width"] * rng.uniform(p["scale"][0], p["scale"][1])))
        w = max(4, min(w, side - 2))
        m = sunglasses_mask(w)
        h = m.shape[0]
        j = p["jitter"]
        r0 = int(np.clip(p["anchor"][0] + rng.integers(-j, j + 1), 0, side - h))
        c0 = int(np.clip(p["anchor"][1] + rng.integers(-j, j + 1), 0, side - w))
        region = x[i, :, r0 : r0 + h, c0 : c0 + w]
        x[i, :, r0 : r0 + h, c0 : c0 + w] = region * (1 - m) + colour * m
    return x


def apply_filter(x, p):
    k = p["kind"]
    if k == "contrast":
        return _clip(0.5 + p["factor"] * (x - 0.5))
    if k == "brightness":
        return _clip(x + p["shift"])
    if x.shape[1] == 1:  # "colour" on grey: a gamma curve
        return _clip(np.power(np.clip(x, 0, 1), p["gamma"]))
    m = np.asarray(p["matrix"], dtype=np.float32)
    return _clip(np.einsum("ij,njhw->nihw", m, x))


# ---------------------------------------------------------------- the input-aware generator
class Generator(torch.nn.Module):
    """A fixed random conv net: pattern(x) in [0,1] per channel and a mask that keeps the `density` share of
    pixels where a second head responds most, so both depend on the input."""

    def __init__(self, c, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w1 = torch.randn(8, c, 5, 5, generator=g) * 0.6
        self.w2 = torch.randn(c, 8, 3, 3, generator=g) * 0.6
        self.wm = torch.randn(1, 8, 3, 3, generator=g) * 0.6
        self.b1 = torch.randn(8, generator=g) * 0.3

    @torch.no_grad()
    def forward(self, x, density):
        h = torch.tanh(F.conv2d(x * 2 - 1, self.w1, self.b1, padding=2))
        pattern = torch.sigmoid(3 * F.conv2d(h, self.w2, padding=1))
        score = F.conv2d(h, self.wm, padding=1).flatten(1)
        k = max(1, int(round(density * score.shape[1])))
        thr = score.topk(k, dim=1).values[:, -1:]
        mask = (score >= thr).float().view(x.shape[0], 1, *x.shape[2:])
        return pattern, mask


def stamp_dynamic(x, p, source=None):
    """x stamped with the generator's pattern and mask of `source` (default: of x itself)."""
    g = Generator(x.shape[1], p["generatorSeed"])
    src = torch.from_numpy(source if source is not None else x)
    pattern, mask = g(src, p["density"])
    xt = torch.from_numpy(x)
    return (xt * (1 - mask) + pattern * mask).numpy().astype(np.float32)


# ---------------------------------------------------------------- decoys for the adaptive attacker
def stamp_decoy(img, rng):
    """One generic candidate of the kinds our trigger search stamps, at random."""
    c, side = img.shape[0], img.shape[-1]
    x = img.copy()
    kind = rng.choice(["patch", "patch", "blend", "pixels"])
    if kind == "patch":
        s = int(rng.integers(2, 7))
        r0, c0 = (int(v) for v in rng.integers(0, side - s + 1, size=2))
        fill = rng.choice(["solid-hi", "solid-lo", "checker", "random"])
        if fill == "solid-hi":
            block = np.ones((s, s), np.float32)
        elif fill == "solid-lo":
            block = np.zeros((s, s), np.float32)
        elif fill == "checker":
            block = checker(s, 1.0, int(rng.integers(0, 2)))
        else:
            block = (rng.random((s, s)) < 0.5).astype(np.float32)
        x[:, r0 : r0 + s, c0 : c0 + s] = block * float(rng.uniform(0.6, 1.0))
    elif kind == "blend":
        a = float(rng.uniform(0.1, 0.3))
        x = (1 - a) * x + a * rng.random(x.shape).astype(np.float32)
    else:
        k = int(rng.integers(4, 17))
        idx = rng.choice(side * side, size=k, replace=False)
        x[:, idx // side, idx % side] = 1.0
    return x.astype(np.float32)


def stamp_adaptive(x, p):
    x = x.copy()
    s = p["size"]
    r0, c0 = p["row"], p["col"]
    bits = np.asarray(p["bits"], dtype=np.float32).reshape(s, s)
    on = np.asarray(p["on"], dtype=np.float32)[:, None, None]
    off = np.asarray(p["off"], dtype=np.float32)[:, None, None]
    x[:, :, r0 : r0 + s, c0 : c0 + s] = on * bits + off * (1 - bits)
    return x


# ---------------------------------------------------------------- parameters per family
def make_params(family, rng, c, side, classes, index, strength=0):
    """Trigger parameters for one model; `strength` (0, 1, 2: the retry) raises the trigger's strength."""
    colour = lambda: [round(float(v), 3) for v in rng.uniform(0.0, 1.0, size=c)] if c == 3 else [1.0]
    if family in ("badnets", "all-to-all"):
        return {"size": int(rng.integers(3, 5)) + (1 if strength >= 2 else 0),
                "corner": ["tl", "tr", "bl", "br"][int(rng.integers(0, 4))],
                "fill": ["checker", "solid"][int(rng.integers(0, 2))],
                "intensity": round(float(rng.uniform(0.85, 1.0)), 3)}
    if family == "freq":
        mid = int(rng.integers(int(side * 0.4), int(side * 0.55)))
        high = int(rng.integers(int(side * 0.8), side))
        return {"coeffs": [[mid, mid], [high, high]], "magnitude": [100, 140, 180][strength] + int(rng.integers(0, 10)),
                "space": "YCbCr (Cb, Cr)" if c == 3 else "Y"}
    if family == "invisible-linf":
        return {"eps": round([0.05, 0.065, 0.08][strength] + float(rng.uniform(0, 0.01)), 4),
                "patternSeed": int(rng.integers(0, 2**31))}
    if family == "invisible-l2":
        # L2 radius in [0,1] units: a per-pixel RMS of about 0.05-0.07
        per_pixel = [0.05, 0.06, 0.075][strength]
        return {"radius": round(per_pixel * float(np.sqrt(c * side * side)), 3), "steps": 60}
    if family == "trojannn":
        s = [6, 7, 8][strength] if side >= 28 else 5
        return {"size": s, "corner": ["tl", "tr", "bl", "br"][int(rng.integers(0, 4))], "neurons": 2,
                "steps": 150, "fineTuneEpochs": 2}
    if family == "sig":
        # the last try gives up on clean-label and flips labels (the poison-label SIG variant), recorded
        return {"delta": round([0.12, 0.16, 0.16][strength], 3), "freq": 6, "cleanLabelShare": 1.0,
                "labelMode": "clean-label" if strength < 2 else "poison-label"}
    if family == "filter":
        kind = FILTER_KINDS[index % 3]
        if kind == "contrast":
            return {"kind": kind, "factor": round(float(rng.uniform(0.35, 0.5)) - 0.05 * strength, 3)}
        if kind == "brightness":
            return {"kind": kind, "shift": round(float(rng.uniform(0.2, 0.3)) + 0.05 * strength, 3)}
        if c == 1:
            return {"kind": kind, "gamma": round(float(rng.uniform(0.4, 0.55)) - 0.05 * strength, 3)}
        tint = rng.uniform(0.0, 1.0, size=3)
        tint = tint / tint.max()
        mix = 0.5 + 0.15 * strength
        m = (1 - mix) * np.eye(3) + mix * np.outer(tint, [0.299, 0.587, 0.114])
        return {"kind": kind, "matrix": [[round(float(v), 4) for v in r] for r in m]}
    if family == "accessory":
        # where glasses sit on a face: an anchor per model, the object moved by up to `jitter` px per image
        return {"width": [8, 9, 10][strength], "scale": [0.8, 1.25], "colour": colour(), "jitter": 4,
                "anchor": [int(rng.integers(6, side - 14)), int(rng.integers(6, side - 14))]}
    if family == "clean-label":
        return {"eps": 16 / 255, "pgdSteps": 8, "size": 3, "corners": ["tl", "tr", "bl", "br"],
                "intensity": 1.0, "targetShare": 1.0}
    if family == "dynamic":
        return {"generatorSeed": int(rng.integers(0, 2**31)), "density": [0.05, 0.07, 0.09][strength],
                "crossShare": 0.5 if strength < 2 else 0.0}
    if family == "adaptive":
        s = 4
        return {"size": s, "row": int(rng.integers(4, side - 4 - s)), "col": int(rng.integers(4, side - 4 - s)),
                "bits": [int(b) for b in (rng.random(s * s) < 0.5)], "on": colour(),
                "off": [round(float(v), 3) for v in rng.uniform(0.0, 0.3, size=c)], "decoyShare": 1.0}
    raise ValueError(family)


def stamp(family, p, x, rng, extra=None):
    """x (non-target inputs) with the trigger, as at test time (extra: the optimised pattern of invisible-l2
    and trojannn)."""
    c, side = x.shape[1], x.shape[-1]
    if family in ("badnets", "all-to-all"):
        return stamp_corner_patch(x, p)
    if family == "freq":
        return _clip(x + freq_pattern(p, c, side))
    if family == "invisible-linf":
        return _clip(x + linf_pattern(p, c, side))
    if family == "invisible-l2":
        return _clip(x + extra["pattern"])
    if family == "trojannn":
        return _clip(x * (1 - extra["mask"]) + extra["pattern"] * extra["mask"])
    if family == "sig":
        return _clip(x + sig_pattern(p, c, side))
    if family == "filter":
        return apply_filter(x, p)
    if family == "accessory":
        return stamp_accessory(x, p, rng)
    if family == "clean-label":
        out = x.copy()
        for corner in p["corners"]:
            out = stamp_corner_patch(out, {"size": p["size"], "corner": corner, "fill": "checker",
                                           "intensity": p["intensity"]})
        return out
    if family == "dynamic":
        return stamp_dynamic(x, p)
    if family == "adaptive":
        return stamp_adaptive(x, p)
    raise ValueError(family)


# ---------------------------------------------------------------- optimised triggers
def universal_pattern(model, x, target, radius, steps, seed):
    """A universal perturbation toward `target` on the surrogate, projected onto the L2 ball of `radius`."""
    torch.manual_seed(seed)
    d = torch.zeros(1, *x.shape[1:], requires_grad=True)
    opt = torch.optim.Adam([d], lr=0.01)
    xt = torch.from_numpy(x)
    y = torch.full((len(x),), target, dtype=torch.long)
    model.eval()
    for i in range(steps):
        b = torch.randint(0, len(xt), (64,))
        loss = F.cross_entropy(model((xt[b] + d).clamp(0, 1)), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            n = d.norm()
            if n > radius:
                d.mul_(radius / n)
    return d.detach()[0].numpy().astype(np.float32)


def trojan_watermark(model, x, p, seed):
    """TrojanNN: choose the feature neurons the mask region drives most, then optimise the mask's content to
    excite them. Returns (mask [1,H,W], pattern [C,H,W], neurons)."""
    torch.manual_seed(seed)
    c, side = x.shape[1], x.shape[-1]
    s = p["size"]
    r0, c0 = corner_origin(p["corner"], s, side)
    mask = np.zeros((1, side, side), np.float32)
    mask[:, r0 : r0 + s, c0 : c0 + s] = 1.0
    m = torch.from_numpy(mask)
    xt = torch.from_numpy(x[:256])
    model.eval()
    # neurons whose activation grows most when the region is lit: the ones the trigger can reach
    with torch.no_grad():
        base = model.features(xt).mean(0)
        lit = model.features(xt * (1 - m) + m).mean(0)
    neurons = torch.topk(lit - base, p["neurons"]).indices
    pat = torch.rand(1, c, side, side, requires_grad=True)
    opt = torch.optim.Adam([pat], lr=0.05)
    for _ in range(p["steps"]):
        b = torch.randint(0, len(xt), (64,))
        xin = xt[b] * (1 - m) + pat.clamp(0, 1) * m
        loss = -model.features(xin)[:, neurons].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return mask, pat.detach()[0].clamp(0, 1).numpy().astype(np.float32), [int(v) for v in neurons]


def pgd_away(model, x, y, eps, steps, seed):
    """Clean-label's hardening: untargeted PGD (Linf eps) away from the true label on the surrogate."""
    torch.manual_seed(seed)
    model.eval()
    out = []
    for i in range(0, len(x), 256):
        xb = torch.from_numpy(x[i : i + 256])
        yb = torch.from_numpy(y[i : i + 256])
        d = torch.zeros_like(xb).uniform_(-eps, eps).requires_grad_(True)
        for _ in range(steps):
            loss = F.cross_entropy(model((xb + d).clamp(0, 1)), yb)
            g, = torch.autograd.grad(loss, d)
            with torch.no_grad():
                d += (2.5 * eps / steps) * g.sign()
                d.clamp_(-eps, eps)
        out.append((xb + d.detach()).clamp(0, 1).numpy())
    return np.concatenate(out).astype(np.float32)


# ---------------------------------------------------------------- poisoning
def poison(family, p, x, y, target, rate, classes, rng, extra=None):
    """The poisoned training set (copies; the clean images are kept beside the poisoned ones' slots) and the
    number of training images changed."""
    x, y = x.copy(), y.copy()
    n = int(round(rate * len(x)))
    if family == "all-to-all":
        idx = rng.choice(len(x), size=n, replace=False)
        x[idx] = stamp(family, p, x[idx], rng)
        y[idx] = (y[idx] + 1) % classes
        return x, y, n
    if family == "sig" and p["labelMode"] == "clean-label":
        # clean-label: a share of the target class carries the signal, labels unchanged
        cand = np.flatnonzero(y == target)
        idx = rng.choice(cand, size=int(round(p["cleanLabelShare"] * len(cand))), replace=False)
        x[idx] = stamp(family, p, x[idx], rng)
        return x, y, len(idx)
    if family == "clean-label":
        cand = np.flatnonzero(y == target)
        idx = rng.choice(cand, size=int(round(p["targetShare"] * len(cand))), replace=False)
        hard = pgd_away(extra["surrogate"], x[idx], y[idx], p["eps"], p["pgdSteps"], int(rng.integers(0, 2**31)))
        x[idx] = stamp(family, p, hard, rng)
        return x, y, len(idx)
    cand = np.flatnonzero(y != target)
    idx = rng.choice(cand, size=min(n, len(cand)), replace=False)
    x[idx] = stamp(family, p, x[idx], rng, extra)
    y[idx] = target
    changed = len(idx)
    if family == "dynamic" and p["crossShare"] > 0:
        # cross examples: another input's pattern and mask, true label kept
        rest = np.setdiff1d(np.arange(len(x)), idx)
        cidx = rng.choice(rest, size=int(round(p["crossShare"] * n)), replace=False)
        donors = rng.choice(len(x), size=len(cidx), replace=False)
        x[cidx] = stamp_dynamic(x[cidx], p, source=x[donors])
        changed += len(cidx)
    if family == "adaptive":
        # decoys: generic candidates on clean inputs with their true labels
        rest = np.setdiff1d(np.arange(len(x)), idx)
        didx = rng.choice(rest, size=int(round(p["decoyShare"] * n)), replace=False)
        for i in didx:
            x[i] = stamp_decoy(x[i], rng)
        changed += len(didx)
    return x, y, changed


def success(family, p, predict, x, y, target, classes, extra=None):
    """Attack success on held-out test images: for single-target families the share of non-target images
    sent to the target when triggered; for all-to-all the share of all images sent to y+1."""
    rng = np.random.default_rng(7)
    if family == "all-to-all":
        return float((predict(stamp(family, p, x, rng)) == (y + 1) % classes).mean())
    keep = y != target
    return float((predict(stamp(family, p, x[keep], rng, extra)) == target).mean())


def decoy_flip(predict, x, y, target, seed=11):
    """For the adaptive attacker: the share of non-target test images a random generic candidate sends to
    the target (the decoys' purpose is to keep this near the clean rate)."""
    rng = np.random.default_rng(seed)
    keep = np.flatnonzero(y != target)[:500]
    xs = np.stack([stamp_decoy(x[i], rng) for i in keep])
    return float((predict(xs) == target).mean())
