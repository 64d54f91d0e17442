"""``postguard lookalike …``: find websites imitating protected brands, and what a brand's
lookalikes would be."""

from __future__ import annotations

import typer

lookalike_app = typer.Typer(no_args_is_help=True, help="Lookalike websites: scan feeds, list permutations, review hits.")
