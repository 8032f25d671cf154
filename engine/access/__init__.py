"""Access rules: users, roles, permissions and confidential cases, in one policy the API asks.

`AccessPolicy` decides who may do what on which case or task and what they see of it; `People`
holds the configured users and roles with the confidential and first-receiver rules it judges by.
The engine has no rule of its own: which cases are confidential is configuration.
"""

from .confidential import PLACEHOLDER, SAFE_KEYS, ConfidentialRule, FirstReceiverRule
from .people import PERMISSIONS, People, Role, User
from .policy import AccessPolicy, TaskSource

__all__ = [
    "PERMISSIONS",
    "PLACEHOLDER",
    "SAFE_KEYS",
    "AccessPolicy",
    "ConfidentialRule",
    "FirstReceiverRule",
    "People",
    "Role",
    "TaskSource",
    "User",
]
