"""Where `engine.people` was: its names now live in `engine.access` (issue 11); this module keeps
the old import path working for the modules and integrators that still use it."""

from .access.confidential import PLACEHOLDER, SAFE_KEYS, TRUE_TEXTS
from .access.people import PERMISSIONS, People, Role, User

__all__ = ["PERMISSIONS", "PLACEHOLDER", "SAFE_KEYS", "TRUE_TEXTS", "People", "Role", "User"]
