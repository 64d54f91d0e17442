"""A small linear model of scam wording: logistic regression on hashed word and character n-grams.

Features of a message (folded with teencode, ``fold_slang``): each distinct word, with the distinct
character 3- to 5-grams of the word with a space at each end, and each distinct pair of neighbouring
words, hashed (CRC-32, the same in every process) into ``DIM`` buckets. Because every feature
belongs to one word or one pair, a word's share of the score is a sum that is kept once computed
(``Model.probability``): scoring a message costs a look-up per word and a hash per pair. The model is the weights of the
buckets seen in training and a bias, stored as a small ``.npz`` in the package
(``messages/model/scam-v2.npz``): loaded in milliseconds.

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
VERSION = 2
MODEL_FILE = "scam-v2.npz"
_PAIR_SALT = 0x5BD1E995
_PAIR_MIX = 0x9E3779B1  # odd: the first word's code, multiplied, is not the second's
_GRAM_SALT = 0x9E3779B1
_GRAMS = (3, 4, 5)
_WORD_CACHE = 100_000  # words whose share of the score a model keeps; emptied when full
LEGIT_WEIGHT = 2.0
EPOCHS = 300  # full-batch steps
L2 = 1e-4


# Links are judged by the lookups and the rules, not by their spelling: the model sees the word "link".
_LINKS = re.compile(r"(?i)(?:\b(?:https?|hxxps?)://|\bwww\.)\S+|\b[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,24}(?:/\S*)?")


# Every link has "://" or a dot before a letter: most messages are ruled out by this alone.
_MAYBE_LINK = re.compile(r"://|\.[^\W\d_]")


def model_text(text: str, slang: str | None = None) -> str:
    """What the model reads of a message: its words, folded with teencode, each link as ``link``;
    ``slang``: ``fold_slang(text)`` when known (a message without links is read as that)."""
    from postguard.messages.text import fold_slang

    if slang is not None and (_MAYBE_LINK.search(text) is None or _LINKS.search(text) is None):
        return slang
    return fold_slang(_LINKS.sub(" link ", text))


def word_features(word: str) -> list[int]:
    """The distinct buckets of one word: the word itself and the 3- to 5-grams of `` word `` (each
    counted once, so a long run of one letter weighs no more than a short one)."""
    crc = zlib.crc32
    b = f" {word} ".encode("ascii", "ignore")
    return list(dict.fromkeys((crc(word.encode()) & _MASK, *((crc(b[i : i + n]) ^ _GRAM_SALT) & _MASK for n in _GRAMS
                                                           for i in range(len(b) - n + 1)))))


def _pair(first: int, second: int) -> int:
    """The bucket of a pair of neighbouring words, from the words' CRC-32s (ordered: "a b" ≠ "b a")."""
    return ((first * _PAIR_MIX) ^ second ^ _PAIR_SALT) & _MASK


def _pairs(words: list[str]) -> list[int]:
    codes = [zlib.crc32(w.encode()) for w in words]
    return list(dict.fromkeys(_pair(a, b) for a, b in zip(codes, codes[1:], strict=False)))


def features(folded: str) -> np.ndarray:
    """The hashed feature indices of a ``fold_slang`` text (int64): each distinct word's, then each
    distinct pair's bucket; a bucket two words share counts once for each."""
    words = folded.split()
    idx = [i for w in dict.fromkeys(words) for i in word_features(w)] + _pairs(words)
    return np.array(idx, dtype=np.int64)


@dataclass
class Model:
    weights: np.ndarray  # float32[DIM]
    bias: float
    meta: dict

    def __post_init__(self) -> None:
        self._w: list[float] = self.weights.tolist()
        self._words: dict[str, tuple[float, int]] = {}

    def probability(self, folded: str) -> float:
        """The chance a ``model_text`` is a scam: the bias plus each distinct word's share (its
        ``word_features`` summed, kept with the word's CRC-32) plus each distinct pair's weight."""
        w, kept = self._w, self._words
        z = self.bias
        seen: set[str] = set()
        codes = []
        for word in folded.split():
            got = kept.get(word)
            if got is None:
                got = (sum(w[i] for i in word_features(word)), zlib.crc32(word.encode()))
                if len(kept) >= _WORD_CACHE:
                    kept.clear()
                kept[word] = got
            if word not in seen:
                seen.add(word)
                z += got[0]
            codes.append(got[1])
        pairs = {((a * _PAIR_MIX) ^ b ^ _PAIR_SALT) & _MASK for a, b in zip(codes, codes[1:], strict=False)}  # _pair
        z += sum(map(w.__getitem__, pairs))
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
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("version") != VERSION:
                raise ValueError(f"model version {meta.get('version')} is not version {VERSION}: train it again "
                                 "with `postguard messages train`")
            w = np.zeros(DIM, dtype=np.float32)
            w[z["index"]] = z["weight"].astype(np.float32)
            return cls(w, float(z["bias"][0]), meta)


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
