"""Core: the typed data that flows between the parts (schema), settings, errors, text helpers."""
