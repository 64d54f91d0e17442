"""A small linear model of scam wording: logistic regression on hashed word and character n-grams.

Features of a message (folded with teencode, ``fold_slang``): its words, word pairs, and the
character 4-grams of the text with a space at each end, each hashed (a fixed polynomial hash,
the same in every process) into ``DIM`` buckets and counted once. The model is the weights of the
buckets seen in training and a bias, stored as a small ``.npz`` in the package
(``messages/model/scam-v1.npz``): loaded in milliseconds, scored with one gather and a sum.

Training (``train``) is full-batch logistic regression with L2 on the corpus rows, the legit class
weighted up (flagging a genuine bank or operator message is the costly mistake)."""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

DIM = 1 << 18
_MASK = DIM - 1  # a hash modulo DIM (a power of two)
VERSION = 1
MODEL_FILE = "scam-v1.npz"
_P = np.uint32(16777619)  # FNV prime: the per-character multiplier of the rolling hash
_SALT = {4: np.uint32(0x9E3779B1)}
LEGIT_WEIGHT = 2.0
EPOCHS = 300  # full-batch steps
L2 = 1e-4


# Links are judged by the lookups and the rules, not by their spelling: the model sees the word "link".
_LINKS = re.compile(r"(?i)(?:\b(?:https?|hxxps?)://|\bwww\.)\S+|\b[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,24}(?:/\S*)?")


def model_text(text: str, slang: str | None = None) -> str:
    """What the model reads of a message: its words, folded with teencode, each link as ``link``;
    ``slang``: ``fold_slang(text)`` when known (a message without links is read as that)."""
    from postguard.messages.text import fold_slang

    if slang is not None and _LINKS.search(text) is None:
        return slang
    return fold_slang(_LINKS.sub(" link ", text))


def features(folded: str) -> np.ndarray:
    """The distinct hashed feature indices of a ``fold_slang`` text (int64, sorted)."""
    words = folded.split()
    crc = zlib.crc32
    parts = [crc(w.encode()) & _MASK for w in words]
    parts += [(crc(f"{a} {b}".encode()) ^ 0x5BD1E995) & _MASK for a, b in zip(words, words[1:], strict=False)]
    idx = np.array(parts, dtype=np.uint32)
    data = np.frombuffer(f" {folded} ".encode("ascii", "ignore"), dtype=np.uint8).astype(np.uint32)
    for n in (4,):
        m = len(data) - n + 1
        if m > 0:
            h = np.full(m, _SALT[n], dtype=np.uint32)
            for k in range(n):
                h = (h * _P) ^ data[k : k + m]
            idx = np.concatenate((idx, h & np.uint32(_MASK)))
    if not len(idx):
        return np.zeros(0, dtype=np.int64)
    idx.sort()
    return idx[np.concatenate(([True], idx[1:] != idx[:-1]))].astype(np.int64)


@dataclass
class Model:
    weights: np.ndarray  # float32[DIM]
    bias: float
    meta: dict

    def probability(self, folded: str) -> float:
        z = float(self.weights[features(folded)].sum()) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def save(self, path: Path) -> None:
        nz = np.flatnonzero(self.weights)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez_compressed(f, index=nz.astype(np.int32), weight=self.weights[nz].astype(np.float16),
                                bias=np.array([self.bias]), meta=np.frombuffer(json.dumps(self.meta).encode(),
                                                                               dtype=np.uint8))

    @classmethod
    def load(cls, path: Path | None = None) -> Model:
        """The model at ``path``, or the one shipped in the package."""
        if path is None:
            ref = resources.files("postguard.messages").joinpath("model", MODEL_FILE)
            with ref.open("rb") as f:
                return cls._read(f)
        with open(path, "rb") as f:
            return cls._read(f)

    @classmethod
    def _read(cls, f) -> Model:
        with np.load(f, allow_pickle=False) as z:
            w = np.zeros(DIM, dtype=np.float32)
            w[z["index"]] = z["weight"].astype(np.float32)
            return cls(w, float(z["bias"][0]), json.loads(bytes(z["meta"]).decode()))


def train(rows: Iterable[tuple[str, str] | tuple[str, str, float]], *, epochs: int = EPOCHS, rate: float = 0.05,
          l2: float = L2) -> Model:
    """Fit on ``(label, text)`` or ``(label, text, weight)`` rows: ``scam`` and ``suspicious`` are 1,
    ``legit`` 0 (weighted ``LEGIT_WEIGHT`` times more), a row's weight (default 1) scaling its share
    of the loss. Full-batch Adam on the mean weighted log-loss plus ``l2`` · |w|²: deterministic, and
    the same model whatever the order of the rows."""
    feats, ys, ws = [], [], []
    for row in rows:
        feats.append(features(model_text(row[1])))
        y = 1.0 if row[0] in ("scam", "suspicious") else 0.0
        ys.append(y)
        ws.append((float(row[2]) if len(row) > 2 else 1.0) * (1.0 if y else LEGIT_WEIGHT))
    if not feats:
        raise ValueError("no training rows")
    lengths = np.array([len(f) for f in feats])
    flat = np.concatenate(feats)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    row_of = np.repeat(np.arange(len(feats)), lengths)
    y_arr, w_arr = np.array(ys), np.array(ws)
    w_arr /= w_arr.sum()
    used = np.unique(flat)  # only the buckets some row has: the others stay 0
    local = np.searchsorted(used, flat)
    w = np.zeros(len(used))
    b = 0.0
    m1, m2, mb1, mb2 = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, epochs + 1):
        z = np.add.reduceat(w[local], starts) * (lengths > 0) + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))
        g_row = (p - y_arr) * w_arr
        g = np.bincount(local, weights=g_row[row_of], minlength=len(used)) + 2.0 * l2 * w
        gb = float(g_row.sum())
        m1 = beta1 * m1 + (1 - beta1) * g
        m2 = beta2 * m2 + (1 - beta2) * g * g
        mb1 = beta1 * mb1 + (1 - beta1) * gb
        mb2 = beta2 * mb2 + (1 - beta2) * gb * gb
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        w -= rate * (m1 / c1) / (np.sqrt(m2 / c2) + eps)
        b -= rate * (mb1 / c1) / (math.sqrt(mb2 / c2) + eps)
    full = np.zeros(DIM, dtype=np.float32)
    full[used] = w
    full[np.abs(full) < 1e-3] = 0.0
    meta = {"version": VERSION, "dim": DIM, "rows": len(feats), "positives": int(y_arr.sum()), "epochs": epochs,
            "l2": l2}
    return Model(full, float(b), meta)
