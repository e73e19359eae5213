"""The script Streamlit runs for ``rag ui``: the page, drawn by the installed package."""

from __future__ import annotations

from rag.app.ui.page import main

main()
