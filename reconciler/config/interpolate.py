"""``${VAR}``, ``${VAR:-default}`` and ``${var.NAME}`` in YAML scalars.

``${VAR}`` reads the process environment, ``${var.NAME}`` the selected environment's
``variables:`` in ``reconciler.yaml`` (``config/environments.py``). ``$${`` is a literal
``${``. ``:-`` uses the default when the variable is unset or empty (as in a POSIX shell).
The result is always a string: ``${N}`` does not become a number. A missing variable without
a default, or a malformed reference, is a problem reported at its offset in the scalar, so
that every one in the config is listed at once. Given ``Variables`` (as the loader always
does), a name they refuse is a problem too and is never read.

``${each.key}`` and ``${each.value…}`` belong to templates (``config/templates.py``), which
are expanded after reading: a scalar holding one is left exactly as written here, ``$${``
included, for the expansion to resolve (and to refuse outside a template).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.config.variables import Variables

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_REFERENCE = re.compile(r"\$\$\{|\$\{(" + _NAME + r"|var\." + _NAME + r")(?::-([^}]*))?\}|\$\{")
EACH_REFERENCE = re.compile(r"\$\{each\.(key|value)((?:\.[A-Za-z0-9_-]+)*)\}")
VAR_PREFIX = "var."


@dataclass(frozen=True, slots=True)
class InterpolationProblem:
    """A ``${...}`` reference that could not be replaced, at its offset in the scalar."""

    offset: int  # index of the ``$`` in the scalar's text
    message: str
    unset: bool = False  # a variable that is not set (not a malformed reference)


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, list[InterpolationProblem]]:
    """``text`` with every reference replaced; unresolved ones are left as written."""
    if "${" not in text or EACH_REFERENCE.search(text):
        return text, []
    problems: list[InterpolationProblem] = []

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name is None:
            problems.append(InterpolationProblem(match.start(), _malformed(text, match.start())))
            return whole
        if name.startswith(VAR_PREFIX):
            return _variable(name.removeprefix(VAR_PREFIX), default, env, match, problems)
        refused = env.refusal(name) if isinstance(env, Variables) else None
        if refused is not None:
            problems.append(InterpolationProblem(match.start(), refused))
            return whole
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        if value == "":
            return value
        problems.append(
            InterpolationProblem(
                match.start(),
                f"environment variable {name} is not set; set it, or write ${{{name}:-default}}",
                unset=True,
            )
        )
        return whole

    return _REFERENCE.sub(replace, text), problems


def _variable(
    name: str,
    default: str | None,
    env: Mapping[str, str],
    match: re.Match[str],
    problems: list[InterpolationProblem],
) -> str:
    """``${var.NAME}``: the selected environment's variable; ``unset`` when it has none, so
    that a declaration another environment uses does not fail this one (the loader drops
    unset problems under declarations limited to other environments)."""
    values = env.var_values if isinstance(env, Variables) else {}
    value = values.get(name)
    if value is not None:
        return value
    if default is not None:
        return default
    message = (
        env.missing_variable(name)
        if isinstance(env, Variables)
        else f"${{var.{name}}}: no environment is selected"
    )
    problems.append(InterpolationProblem(match.start(), message, unset=True))
    return match.group(0)


def _malformed(text: str, start: int) -> str:
    end = text.find("}", start)
    shown = text[start : end + 1] if 0 <= end - start <= 40 else text[start : start + 12] + "…"
    return (
        f"malformed reference {shown!r}: write ${{NAME}}, ${{NAME:-default}}, ${{var.NAME}} "
        "(NAME: letters, digits, _), or $${ for a literal ${"
    )
