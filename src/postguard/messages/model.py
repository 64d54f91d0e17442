"""A small linear model of scam wording: logistic regression on hashed word and character n-grams.

Features of a message (folded with teencode, ``fold_slang``): its words, word pairs, and the
character 4-grams of the text with a space at each end, each hashed (a fixed polynomial hash,
the same in every process) into ``DIM`` buckets and counted once. The model is the weights of the
buckets seen in training and a bias, stored as a small ``.npz`` in the package
(``messages/model/scam-v1.npz``): loaded in milliseconds, scored with one gather and a sum.

Training (``train``) is plain stochastic gradient descent with L2 on the corpus rows, the legit class
weighted up (flagging a genuine bank or operator message is the costly mistake)."""

from __future__ import annotations

import json
import math
import random
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

DIM = 1 << 18
VERSION = 1
MODEL_FILE = "scam-v1.npz"
_P = np.uint32(16777619)  # FNV prime: the per-character multiplier of the rolling hash
_SALT = {4: np.uint32(0x9E3779B1)}
LEGIT_WEIGHT = 2.0


# Links are judged by the lookups and the rules, not by their spelling: the model sees the word "link".
_LINKS = re.compile(r"(?i)(?:\b(?:https?|hxxps?)://|\bwww\.)\S+|\b[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,24}(?:/\S*)?")


def model_text(text: str) -> str:
    """What the model reads of a message: its words, folded with teencode, each link as ``link``."""
    from postguard.messages.text import fold_slang

    return fold_slang(_LINKS.sub(" link ", text))


def features(folded: str) -> np.ndarray:
    """The distinct hashed feature indices of a ``fold_slang`` text (int64, sorted)."""
    words = folded.split()
    parts = [zlib.crc32(w.encode()) for w in words]
    parts += [zlib.crc32(f"{a} {b}".encode()) ^ 0x5BD1E995 for a, b in zip(words, words[1:], strict=False)]
    idx = [np.asarray(parts, dtype=np.uint64) % DIM] if parts else []
    data = np.frombuffer(f" {folded} ".encode("ascii", "ignore"), dtype=np.uint8).astype(np.uint32)
    for n in (4,):
        if len(data) >= n:
            m = len(data) - n + 1
            h = np.full(m, _SALT[n], dtype=np.uint32)
            for k in range(n):
                h = (h * _P) ^ data[k : k + m]
            idx.append(h.astype(np.uint64) % DIM)
    if not idx:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(idx)).astype(np.int64)


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


def train(rows: Iterable[tuple[str, str]], *, epochs: int = 12, rate: float = 0.2, l2: float = 1e-5,
          seed: int = 7) -> Model:
    """Fit on ``(label, text)`` rows: ``scam`` and ``suspicious`` are 1, ``legit`` 0."""
    data = [(features(model_text(text)), 1.0 if label in ("scam", "suspicious") else 0.0) for label, text in rows]
    if not data:
        raise ValueError("no training rows")
    w = np.zeros(DIM, dtype=np.float64)
    b = 0.0
    r = random.Random(seed)  # noqa: S311  a reproducible training order, not a secret
    order = list(range(len(data)))
    step = 0
    for _ in range(epochs):
        r.shuffle(order)
        for i in order:
            x, y = data[i]
            z = w[x].sum() + b
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            weight = LEGIT_WEIGHT if y == 0.0 else 1.0
            lr = rate / (1.0 + step * 1e-4)
            g = (p - y) * weight
            w[x] -= lr * (g + l2 * w[x])
            b -= lr * g * 0.1
            step += 1
    w[np.abs(w) < 1e-3] = 0.0
    meta = {"version": VERSION, "dim": DIM, "rows": len(data),
            "positives": int(sum(y for _, y in data)), "epochs": epochs}
    return Model(w.astype(np.float32), b, meta)
