"""Indexing: load articles, split them into passages, embed and store them (Chroma + keywords)."""
