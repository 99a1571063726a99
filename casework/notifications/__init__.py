"""Notifications: the inbox, e-mail, group robots, and who is told of each workflow step."""
from . import steps  # noqa: F401  (registers the engine's after-step listener)
