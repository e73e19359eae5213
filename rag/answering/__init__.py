"""Answering: turn retrieved passages into a cited answer (grounded or LLM); follow-ups; chain."""
