"""Transparency for data subjects: who accessed my data, data-subject requests, breach incidents."""
