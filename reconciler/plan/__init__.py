"""The planner: desired vs live into a safe, reviewable ``Plan``. Pure: values in, values out.

    from reconciler.plan import diff, DiffOptions, render_text, can_apply

    plan = diff(desired, live, options=DiffOptions(only=("folder:/curated/**",)))
    print(render_text(plan))
    if not can_apply(plan, force=False): ...

Reading and writing plan files is ``planfile.dumps``/``planfile.loads`` (text in, text out);
printing and files belong to ``reconciler.cli``.
"""

from reconciler.plan.actions import Action, is_destructive, is_replace
from reconciler.plan.canonical import canonical, equivalent
from reconciler.plan.context import DiffOptions
from reconciler.plan.diff import diff
from reconciler.plan.document import compute_checksum, plan_document, plan_from_document
from reconciler.plan.errors import PlanError, PlanFileError
from reconciler.plan.model import (
    FORMAT_VERSION,
    Change,
    Deferral,
    FieldDiff,
    Plan,
    Refs,
    Refusal,
    Summary,
    can_apply,
)
from reconciler.plan.planfile import dumps, loads
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_text
from reconciler.plan.schema import PLAN_SCHEMA

__all__ = [
    "FORMAT_VERSION",
    "PLAN_SCHEMA",
    "Action",
    "Change",
    "Deferral",
    "DiffOptions",
    "FieldDiff",
    "Plan",
    "PlanError",
    "PlanFileError",
    "Refs",
    "Refusal",
    "Summary",
    "can_apply",
    "canonical",
    "compute_checksum",
    "diff",
    "dumps",
    "equivalent",
    "is_destructive",
    "is_replace",
    "loads",
    "plan_document",
    "plan_from_document",
    "render_markdown",
    "render_text",
]
