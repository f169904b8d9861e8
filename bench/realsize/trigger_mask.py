"""Prints the real triggers of a real-size zoo's backdoored models as mask + pattern (JSON on stdout), for
bench/realsize/trigger-diagnosis.ts, which stamps them with the tool's own stampTrigger.

Each trigger of triggers.py that is x' = (1 - m) x + m p (patch, blend) is recovered from apply_trigger on an
all-zeros and an all-ones image: f(0) = m p and f(1) = (1 - m) + m p, so m = 1 - (f(1) - f(0)) and
p = f(0) / m. Triggers of another form (sig, wanet, frequency add or resample) are printed as null.

python3 bench/realsize/trigger_mask.py ZOO_DIR MODEL_ID [MODEL_ID ...]
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from triggers import apply_trigger  # noqa: E402

MASK_KINDS = ("patch", "blend")


def mask_pattern(trigger):
    zeros = torch.zeros(1, 3, 32, 32)
    ones = torch.ones(1, 3, 32, 32)
    f0 = apply_trigger(trigger, zeros)[0]
    f1 = apply_trigger(trigger, ones)[0]
    mask = (1 - (f1 - f0)).clamp(0, 1)
    # the tool's masks are shared across channels: every channel of these triggers has the same mask
    if float((mask - mask[0:1]).abs().max()) > 1e-5:
        raise ValueError("mask differs between channels")
    m = mask[0]
    pattern = torch.where(mask > 1e-6, f0 / mask.clamp_min(1e-6), torch.zeros_like(f0))
    return {"mask": [round(float(v), 6) for v in m.flatten()], "pattern": [round(float(v), 6) for v in pattern.flatten()]}


def main():
    zoo, ids = sys.argv[1], sys.argv[2:]
    manifest = json.load(open(os.path.join(zoo, "resnet18", "manifest.json")))
    by_id = {m["id"]: m for m in manifest["models"]}
    out = {}
    for i in ids:
        t = by_id[i]["trigger"]
        out[i] = mask_pattern(t) if t and t["kind"] in MASK_KINDS else None
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
