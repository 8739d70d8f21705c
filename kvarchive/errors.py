"""The exceptions kvarchive raises and its warnings (the tree is drawn in ``kvarchive._errors``)."""

from . import _errors
from ._errors import *  # noqa: F403 - this module is the error tree's public face
from ._public import publish

__all__: list[str] = []
__all__ += _errors.__all__

publish(globals(), __all__, __name__, "kvarchive._")  # kvarchive.errors.X in tracebacks
