"""App: what people touch: the CLI, the UI's rendering, uploads, exports, stats."""
