"""The Streamlit chat page: resources (cached engine/chain), sidebar, turns, the page.

``rag.app.ui.page.main`` draws one run of the page; ``streamlit_app.py`` beside it is the
script ``rag ui`` serves (and ``ui/app.py`` in a clone calls the same ``main``). Importing
this package imports nothing heavy; its modules import Streamlit.
"""
