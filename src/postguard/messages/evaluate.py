"""Precision, recall and macro-F1 per language (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from postguard.messages.corpus import LABELS


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
