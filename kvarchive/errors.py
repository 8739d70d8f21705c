"""The exceptions kvarchive raises (the tree is drawn in ``kvarchive._errors``)."""

from . import _errors
from ._errors import *  # noqa: F403 - this module is the error tree's public face

__all__: list[str] = []
__all__ += _errors.__all__

# Tracebacks and reprs name the module users import them from.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
