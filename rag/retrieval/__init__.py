"""Retrieval: find the passages that answer a question (dense + keyword, fused, filtered, dated)."""
