"""Takedown requests for confirmed scam sites: who to ask, the evidence pack, and their status."""
