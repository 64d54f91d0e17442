"""The one door to plaintext personal data."""
