"""postguard: protects postal customers' personal data and stops the scams that feed on it."""

__version__ = "0.1.0"
