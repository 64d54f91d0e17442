"""Carriers' subscriber records: protected import, junk-SIM audit and the re-verification queue."""
