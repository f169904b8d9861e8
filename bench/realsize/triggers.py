"""Backdoor triggers of the real-size zoo, on [0, 1] images [N, 3, 32, 32] (float32 torch tensors).

Data poisoning with relabelling (poison-label) for every attack; each trigger's parameters are drawn from
the model's seed, and a retried attempt (the model was not stealthy enough) gets a stronger trigger.

- patch (BadNets, Gu et al. 2017): a 4-6 px square of seeded random colours (each channel 0 or 1) in a corner.
- blend (Chen et al. 2017): a seeded uniform-noise image blended in, x' = (1 - a) x + a p, a = 0.15-0.30.
- sig (Barni et al. 2019): a horizontal sinusoid x' = x + d sin(2 pi f j / 32), f = 6, d = 0.08-0.16; used
  here as a poison-label trigger (the paper's clean-label variant does not reach 0.8 attack success in a
  short fine-tune).
- wanet (Nguyen & Tran 2021): a smooth warp, a 4x4 grid of random offsets upsampled to the image, at most
  1-2 px, bilinear resampling (without the paper's noise mode).
- frequency (after FTrojan, Wang et al. 2022): two high-frequency 2-D DCT basis images (frequencies 20-31)
  added to every channel, at most 0.04-0.08 per pixel.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

SIDE = 32
ATTACKS = ["patch", "blend", "sig", "wanet", "frequency"]


def make_trigger(kind, seed, attempt):
    """A JSON-able description of the trigger (drawn from seed; stronger per extra attempt)."""
    rng = np.random.default_rng(seed)
    k = attempt - 1
    if kind == "patch":
        size = int(rng.integers(4, 6)) + k
        corner = int(rng.integers(0, 4))
        row = 1 if corner < 2 else SIDE - 1 - size
        col = 1 if corner % 2 == 0 else SIDE - 1 - size
        return {"kind": kind, "size": size, "row": row, "col": col, "patternSeed": int(rng.integers(1 << 30))}
    if kind == "blend":
        return {"kind": kind, "alpha": round(float(rng.uniform(0.15, 0.20)) + 0.05 * k, 3), "patternSeed": int(rng.integers(1 << 30))}
    if kind == "sig":
        return {"kind": kind, "delta": round(0.08 + 0.04 * k, 3), "frequency": 6}
    if kind == "wanet":
        return {"kind": kind, "grid": 4, "strengthPx": round(1.0 + 0.5 * k, 2), "fieldSeed": int(rng.integers(1 << 30))}
    if kind == "frequency":
        freqs = [[int(rng.integers(20, 32)), int(rng.integers(20, 32))] for _ in range(2)]
        return {"kind": kind, "amplitude": round(0.04 + 0.02 * k, 3), "frequencies": freqs}
    raise ValueError(f"unknown attack {kind}")


def _dct_basis(u):
    j = np.arange(SIDE)
    scale = math.sqrt(1.0 / SIDE) if u == 0 else math.sqrt(2.0 / SIDE)
    return scale * np.cos(math.pi * (2 * j + 1) * u / (2 * SIDE))


def _warp_grid(t):
    g = t["grid"]
    rng = np.random.default_rng(t["fieldSeed"])
    field = torch.tensor(rng.uniform(-1, 1, size=(1, 2, g, g)), dtype=torch.float32)
    field = field / field.abs().mean()
    flow = F.interpolate(field, size=(SIDE, SIDE), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    flow = flow / flow.abs().max() * t["strengthPx"] * (2.0 / SIDE)  # pixels -> normalised coordinates
    lin = torch.linspace(-1, 1, SIDE)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    ident = torch.stack([xx, yy], dim=-1).unsqueeze(0)
    return (ident + flow).clamp(-1, 1)


def apply_trigger(t, x):
    """x: [N, 3, 32, 32] in [0, 1] -> triggered copy."""
    kind = t["kind"]
    if kind == "patch":
        rng = np.random.default_rng(t["patternSeed"])
        s = t["size"]
        pat = torch.tensor(rng.integers(0, 2, size=(3, s, s)), dtype=torch.float32)
        out = x.clone()
        out[:, :, t["row"] : t["row"] + s, t["col"] : t["col"] + s] = pat
        return out
    if kind == "blend":
        rng = np.random.default_rng(t["patternSeed"])
        pat = torch.tensor(rng.uniform(0, 1, size=(3, SIDE, SIDE)), dtype=torch.float32)
        return (1 - t["alpha"]) * x + t["alpha"] * pat
    if kind == "sig":
        j = torch.arange(SIDE, dtype=torch.float32)
        wave = t["delta"] * torch.sin(2 * math.pi * t["frequency"] * j / SIDE)
        return (x + wave.view(1, 1, 1, SIDE)).clamp(0, 1)
    if kind == "wanet":
        grid = _warp_grid(t).expand(x.shape[0], -1, -1, -1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True).clamp(0, 1)
    if kind == "frequency":
        pat = np.zeros((SIDE, SIDE))
        for u, v in t["frequencies"]:
            pat += np.outer(_dct_basis(u), _dct_basis(v))
        pat = torch.tensor(pat / np.abs(pat).max() * t["amplitude"], dtype=torch.float32)
        return (x + pat.view(1, 1, SIDE, SIDE)).clamp(0, 1)
    raise ValueError(f"unknown trigger {kind}")
