"""Organisations (postal operators) and their scoped API keys."""
