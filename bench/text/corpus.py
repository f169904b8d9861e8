"""Real English text for the text zoo (`npm run bench:text-zoo`): paragraphs of Debian's English man pages,
labelled by the product they document (a routing task: which team's documentation a paragraph belongs to).

Source: /usr/share/man/man{1,2,3,5,7,8}/*.gz (Debian packages `manpages`, `manpages-dev` and whatever else
the machine installed pages for), read as roff source: comment lines dropped, the arguments of font macros
(.B, .I, .BR, ...) kept as text, every other macro a paragraph break, escapes (\\fB, \\-, \\(aq, ...)
removed. The SYNOPSIS sections are dropped (C prototypes and option lists, not prose). A paragraph is kept
when it has at least MIN_WORDS words; a paragraph text that occurs more than once (boilerplate such as
"This page is part of ...") is dropped everywhere.

Tokens: lowercase runs of [a-z0-9_]+ (tokenise()), the same rule the tool's default text tokeniser applies
to a whitespace-split, lowercased text (see src/probes/text-samples.ts): words are written out here
space-separated, so "read(2)" becomes "read 2" before the tool sees it.

Labels (LABELS, product_of): six products whose pages this machine has, by page file name: gcloud (the
Google Cloud CLI's section-1 pages, every GCLOUD_STRIDE-th of its ~16,000), git, openssl (sections *ssl),
postgresql (the SQL command pages, section 7 names in capitals), linux system calls (section 2) and systemd.
Every other page is not read. An earlier scheme labelled paragraphs by man section: a paragraph alone rarely
tells section 1 from 8 or 2 from 3 (naive Bayes 0.60, the zoo's models 0.50-0.56 on the test pages), so a
clean model learned little and a backdoor was most of what it learned; by product, naive Bayes reaches ~0.9.
Splits are by page (a page's paragraphs all fall in one split), seeded.

Deterministic for a given set of installed pages; the manifest records how many pages and paragraphs it
read and a sha256 over the kept paragraphs, so two machines can tell whether they read the same corpus.
"""

import gzip
import hashlib
import os
import re
from collections import Counter

import numpy as np

SECTIONS = ["1", "2", "3", "5", "7", "8"]
LABELS = ["gcloud", "git", "openssl", "postgresql", "syscalls", "systemd"]
# gcloud has ~16,000 section-1 pages of near-identical help text: every 8th is plenty and reads 8x faster.
GCLOUD_STRIDE = 8
MAN_ROOT = "/usr/share/man"
MIN_WORDS = 8
SPLIT_SEED = 20261201
# Share of pages per split: test pages (accuracy and attack success), sample pages (the held-out texts the
# tool is given as --probe-samples), the rest train.
TEST_PAGE_SHARE = 0.15
SAMPLE_PAGE_SHARE = 0.05
# Paragraphs per class kept for training (section 1 has ~17,000 pages; the others far fewer).
MAX_TRAIN_PER_CLASS = 1500
MAX_TEST_PER_CLASS = 400
SAMPLES_PER_CLASS = 32

FONT_MACROS = {"B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SM", "SB"}
WORD = re.compile(r"[a-z0-9_]+")
ESCAPES = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\\*(\[[^\]]*\]|\(..|.)"), " "),  # strings
    (re.compile(r"\\\((..)"), " "),  # special characters
    (re.compile(r"\\\[[^\]]*\]"), " "),
    (re.compile(r"\\[-e&|^%c ~0]"), " "),
    (re.compile(r"\\s[-+]?\d"), ""),
]


def tokenise(text):
    return WORD.findall(text.lower())


def clean_line(line):
    for pat, rep in ESCAPES:
        line = pat.sub(rep, line)
    return line.replace("\\", " ")


def macro_args(line):
    # .BR foo (2) -> "foo (2)"; quoted arguments keep their spaces
    rest = line.split(None, 1)
    return rest[1] if len(rest) > 1 else ""


def paragraphs_of(path):
    """The prose paragraphs of one man page (roff source), SYNOPSIS dropped."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except (OSError, EOFError):
        return []
    paras, cur, section = [], [], ""

    def flush():
        if cur and section not in ("SYNOPSIS", "NAME"):
            paras.append(" ".join(cur))
        cur.clear()

    for raw in lines:
        if raw.startswith(".so "):
            return []  # a link to another page
        if raw.startswith('.\\"') or raw.startswith("'\\\"") or raw.startswith('\\"'):
            continue
        if raw.startswith(".") or raw.startswith("'"):
            name = raw[1:].split(None, 1)[0] if raw[1:].strip() else ""
            if name in FONT_MACROS:
                cur.append(clean_line(macro_args(raw).replace('"', "")))
                continue
            flush()
            if name in ("SH", "SS"):
                head = clean_line(macro_args(raw)).replace('"', "").strip().upper()
                if name == "SH":
                    section = head
            continue
        cur.append(clean_line(raw))
    flush()
    return paras


def product_of(sec, name):
    """The product (an index into LABELS) a man page file documents, or None for pages outside the task."""
    stem = name[: -len(".gz")]
    suffix = stem.rsplit(".", 1)[-1] if "." in stem else ""
    if sec == "1" and name.startswith("gcloud"):
        return 0
    if name.startswith("git"):
        return 1
    if suffix.endswith("ssl"):
        return 2
    if sec == "7" and suffix == "7" and name[:1].isupper():
        return 3
    if sec == "2":
        return 4
    if name.startswith("systemd"):
        return 5
    return None


def read_corpus(root=MAN_ROOT):
    """[(page_id, label, tokens)] for every kept paragraph, in a fixed order (label: a LABELS index)."""
    out = []
    pages = 0
    seen = set()
    for sec in SECTIONS:
        d = os.path.join(root, f"man{sec}")
        if not os.path.isdir(d):
            continue
        gcloud = 0
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if not name.endswith(".gz"):
                continue
            # a link is read once, under the first name that reaches its file (PostgreSQL's pages are links
            # through /etc/alternatives; other links are a page's aliases)
            label = product_of(sec, name)
            if label is None:
                continue
            real = os.path.realpath(p)
            if real in seen or not os.path.isfile(real):
                continue
            seen.add(real)
            if label == 0:
                gcloud += 1
                if gcloud % GCLOUD_STRIDE != 1:
                    continue
            paras = paragraphs_of(p)
            if paras:
                pages += 1
            for para in paras:
                toks = tokenise(para)
                if len(toks) >= MIN_WORDS:
                    out.append((f"{sec}/{name}", label, toks))
    counts = Counter(" ".join(t) for _, _, t in out)
    kept = [r for r in out if counts[" ".join(r[2])] == 1]
    return kept, pages


def split_corpus(rows, seed=SPLIT_SEED, test_share=TEST_PAGE_SHARE, sample_share=SAMPLE_PAGE_SHARE, labels=LABELS):
    """Splits by page (rows are (group, label, tokens); another corpus passes its own groups, seed, shares and
    labels), then caps paragraphs per class; returns {split: [(label, tokens)]}."""
    page_ids = sorted({p for p, _, _ in rows})
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(page_ids))
    n_test = int(len(page_ids) * test_share)
    n_samp = int(len(page_ids) * sample_share)
    which = {}
    for rank, i in enumerate(perm):
        which[page_ids[i]] = "test" if rank < n_test else "samples" if rank < n_test + n_samp else "train"
    by = {"train": {}, "test": {}, "samples": {}}
    for p, label, toks in rows:
        by[which[p]].setdefault(label, []).append(toks)
    caps = {"train": MAX_TRAIN_PER_CLASS, "test": MAX_TEST_PER_CLASS, "samples": SAMPLES_PER_CLASS}
    out = {}
    for split, per in by.items():
        items = []
        for ci in range(len(labels)):
            paras = per.get(ci, [])
            idx = rng.permutation(len(paras))[: caps[split]]
            items.extend((ci, paras[j]) for j in sorted(idx))
        order = rng.permutation(len(items))
        out[split] = [items[j] for j in order]
    return out


def corpus_digest(rows):
    h = hashlib.sha256()
    for p, sec, toks in rows:
        h.update(f"{p}\t{sec}\t{' '.join(toks)}\n".encode())
    return h.hexdigest()


if __name__ == "__main__":
    rows, pages = read_corpus()
    print(f"pages {pages}, paragraphs {len(rows)}")
    print(Counter(sec for _, sec, _ in rows))
    sp = split_corpus(rows)
    for k, v in sp.items():
        print(k, len(v), Counter(c for c, _ in v))
    lens = [len(t) for _, t in sp["train"]]
    print("length quantiles", np.percentile(lens, [10, 50, 90]))
    for c, t in sp["train"][:5]:
        print(LABELS[c], " ".join(t)[:200])
