"""Scam intelligence: indicators, official channels, reports, graded verdicts and lookups."""
