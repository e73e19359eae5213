"""The chat UI entry for a clone: ``streamlit run ui/app.py`` (``rag ui`` serves the same page).

Thin on purpose: the page lives in the package (rag.app.ui.page), so a wheel install
serves exactly what a clone does.
"""

from __future__ import annotations

from rag.app.ui.page import main

main()
