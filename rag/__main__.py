"""``python -m rag``: the same command line as the ``rag`` script (handy from a checkout)."""

from rag.app.cli import main

main()
