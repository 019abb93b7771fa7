"""``Action`` and its predicates, where the plan's code has always imported them from; they
live in ``reconciler.kinds.actions``, below the planner, so the kind registry can use them
without importing the planner."""

from reconciler.kinds.actions import Action, is_delete, is_destructive, is_replace, is_role_change

__all__ = ["Action", "is_delete", "is_destructive", "is_replace", "is_role_change"]
