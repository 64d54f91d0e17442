"""Lookalike websites: which hostnames imitate a protected brand (an operator, bank, shop or
platform), how, and how sure we are. Pure computation over a brand model; no database, no I/O
besides reading the feeds the scanner is given."""
