"""Errors a user can act on: each message names the problem and the fix."""


class RagError(Exception):
    """Base class; the CLI prints the message and exits non-zero, without a traceback."""


class IndexMissingError(RagError):
    pass


class ModelMismatchError(RagError):
    pass


class BadQuestionError(RagError):
    pass


class FilterError(BadQuestionError):
    """Filters no indexed article can pass: refused, never dropped."""


class IndexLockedError(RagError):
    pass


class BackendError(RagError):
    """An optional LLM backend is misconfigured or unreachable."""
