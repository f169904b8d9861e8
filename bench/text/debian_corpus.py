"""The second text corpus (`--corpus debian`, issue 23's "another corpus and vocabulary"): Debian package
descriptions labelled by archive section, a corpus and vocabulary nothing in the tool was chosen on (the
token nulls and the gain-map rule were fitted on the man-page corpus, bench/text/corpus.py).

Source: the bookworm main Packages index (Package, Source, Section, Description-md5) joined on
Description-md5 with its Translation-en index (the long descriptions), both as apt downloads them; copied
once into bench/.cache/debian-{packages,translation-en}.txt (`apt-get update -o Acquire::Languages=en`
fetches the Translation-en file on machines that skip it; docker images do by default).

The rule, fixed before any detection result was looked at:
  text     the synopsis line and the long description, " ." paragraph marks dropped, tokenised as
           corpus.tokenise (lowercase runs of [a-z0-9_]+, the tool's default text tokeniser on
           space-separated words).
  labels   LABELS: six topical sections, the ones with the most distinct texts after the rules below among
           the sections that are not a programming language, a library or package kind, a desktop, or a
           catch-all (excluded: libs, libdevel, oldlibs, devel, doc, debug, misc, utils, admin, x11, gnome,
           kde, xfce, metapackages, interpreters, introspection, kernel, and every language section).
  dedupe   a long description (token sequence, synopsis excluded) shared by two packages is kept once,
           under the first package name in sort order (binaries of one source often share it: -data,
           -common, -dbg); a text whose tokens occur in another class is dropped everywhere.
  length   texts under MIN_WORDS tokens are dropped.
  splits   by source package (all binaries of a source fall in one split; near-identical texts of one
           source never straddle train and test), seeded; caps per class as corpus.py.
"""

import os
from collections import Counter

import numpy as np

import corpus

LABELS = ["games", "graphics", "net", "science", "sound", "text"]
SECTIONS = {name: i for i, name in enumerate(LABELS)}
MIN_WORDS = 12
SPLIT_SEED = 20261205
TEST_SHARE = 0.15
SAMPLE_SHARE = 0.05
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "..", ".cache")
PACKAGES = os.path.join(CACHE, "debian-packages.txt")
TRANSLATIONS = os.path.join(CACHE, "debian-translation-en.txt")


def stanzas(path):
    """Yields each stanza of a deb822 file as {field: value} (continuation lines kept, newline-joined)."""
    cur, key = {}, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    yield cur
                cur, key = {}, None
            elif line[0] in " \t" and key:
                cur[key] += "\n" + line
            elif ":" in line:
                key, val = line.split(":", 1)
                cur[key] = val.strip()
    if cur:
        yield cur


def read_corpus(packages=PACKAGES, translations=TRANSLATIONS):
    """[(source, label, tokens)] for every kept description, in package-name order; and the packages read."""
    for p in (packages, translations):
        if not os.path.exists(p):
            raise FileNotFoundError(
                f"{p} is missing: copy the bookworm main Packages and Translation-en indexes there "
                "(lz4cat /var/lib/apt/lists/*_main_binary-amd64_Packages.lz4, *_main_i18n_Translation-en.lz4; "
                "apt-get update -o Acquire::Languages=en fetches the latter)"
            )
    long_of = {}
    for s in stanzas(translations):
        md5, desc = s.get("Description-md5"), s.get("Description-en")
        if md5 and desc:
            long_of[md5] = desc
    pkgs = []
    for s in stanzas(packages):
        sec = s.get("Section", "").split("/")[-1]
        if sec not in SECTIONS or s.get("Description-md5") not in long_of:
            continue
        source = s.get("Source", s["Package"]).split()[0]
        pkgs.append((s["Package"], source, SECTIONS[sec], long_of[s["Description-md5"]]))
    pkgs.sort()
    seen_long = set()
    rows = []
    for name, source, label, desc in pkgs:
        lines = desc.split("\n")
        body = [ln.strip() for ln in lines[1:] if ln.strip() != "."]
        long_toks = tuple(corpus.tokenise(" ".join(body)))
        if long_toks in seen_long:
            continue
        seen_long.add(long_toks)
        toks = corpus.tokenise(lines[0]) + list(long_toks)
        if len(toks) >= MIN_WORDS:
            rows.append((source, label, toks))
    labels_of = {}
    for _, label, toks in rows:
        labels_of.setdefault(" ".join(toks), set()).add(label)
    kept = [r for r in rows if len(labels_of[" ".join(r[2])]) == 1]
    return kept, len(pkgs)


def split_corpus(rows):
    """Splits by source package, then caps texts per class (corpus.split_corpus's caps); {split: [(label, tokens)]}."""
    return corpus.split_corpus(rows, seed=SPLIT_SEED, test_share=TEST_SHARE, sample_share=SAMPLE_SHARE, labels=LABELS)


# the same digest as the man pages' (group, label, tokens per row)
corpus_digest = corpus.corpus_digest


if __name__ == "__main__":
    rows, n = read_corpus()
    print(f"packages {n}, texts {len(rows)}")
    print({LABELS[k]: v for k, v in sorted(Counter(label for _, label, _ in rows).items())})
    sp = split_corpus(rows)
    for k, v in sp.items():
        print(k, len(v), Counter(c for c, _ in v))
    print("length quantiles", np.percentile([len(t) for _, t in sp["train"]], [10, 50, 90]))
