"""Precision, recall and macro-F1 per language, of the shipped model or cross-validated."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from postguard.messages.corpus import GENERATED_ROWS, LABELS
from postguard.messages.model import Model, train
from postguard.messages.text import strip_diacritics


class Labeller(Protocol):
    def answer(self, text: str | None, *, model: Model | None = None) -> dict: ...


def pairs(service: Labeller, rows: Sequence[Mapping[str, str]], model: Model | None = None
          ) -> Iterator[tuple[str, str, str]]:
    """``(language, expected, predicted)`` for each row, and for each Vietnamese row with diacritics
    once more without them (language ``vi_no_diacritics``)."""
    for r in rows:
        yield r["language"], r["label"], service.answer(r["text"], model=model)["label"]
        if r["language"] == "vi" and (bare := strip_diacritics(r["text"])) != r["text"]:
            yield "vi_no_diacritics", r["label"], service.answer(bare, model=model)["label"]


def cross_validate(service: Labeller, rows: Sequence[Mapping[str, str]], folds: int, *, seed: int = 1
                   ) -> list[tuple[str, str, str]]:
    """``pairs`` of each row by a model trained without the fold it is in (and with the generated
    rows), the rows dealt into ``folds`` folds in a fixed shuffled order."""
    from postguard.messages.corpus.generated import generate

    generated = [(label, text) for label, _, text, _ in generate(GENERATED_ROWS)]
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)  # noqa: S311  a reproducible split, not a secret
    out: list[tuple[str, str, str]] = []
    for k in range(folds):
        held = set(order[k::folds])
        model = train([(r["label"], r["text"]) for i, r in enumerate(rows) if i not in held] + generated)
        out += pairs(service, [rows[i] for i in sorted(held)], model)
    return out


def metrics(pairs: Iterable[tuple[str, str, str]]) -> dict:
    """``(language, expected, predicted)`` triples → per language: count, accuracy, each label's
    precision, recall and F1, and the macro-F1 over the labels present."""
    by_lang: dict[str, list[tuple[str, str]]] = {}
    for lang, want, got in pairs:
        by_lang.setdefault(lang, []).append((want, got))
    out: dict = {}
    for lang, items in sorted(by_lang.items()):
        per = {}
        for label in LABELS:
            tp = sum(1 for w, g in items if w == label and g == label)
            fp = sum(1 for w, g in items if w != label and g == label)
            fn = sum(1 for w, g in items if w == label and g != label)
            if tp + fp + fn == 0:
                continue
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            per[label] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
                          "support": tp + fn}
        out[lang] = {"count": len(items), "accuracy": round(sum(w == g for w, g in items) / len(items), 4),
                     "labels": per,
                     "macro_f1": round(sum(v["f1"] for v in per.values()) / len(per), 4) if per else 0.0}
    return out
