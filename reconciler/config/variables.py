"""Which environment variables a config may interpolate, so that no secret reaches an output.

A config's strings end up in plans, pull-request comments, reports and Encord itself, and a
pull request can write any of them. So ``${NAME}`` resolves only for names the operator
allows: listed under ``variables:`` in ``reconciler.yaml``, or prefixed ``RECONCILER_VAR_``,
or the target's own non-secret ``ENCORD_DOMAIN`` and ``ENCORD_SSH_KEY_FILE``. A name that
looks like a credential (``ENCORD_SSH_KEY``, ``ENCORD_BEARER_TOKEN``, ``RECONCILER_PLAN_KEY``,
or any name with KEY, TOKEN, SECRET, PASSWORD, CREDENTIAL or PRIVATE in it, unless it ends in
``_FILE`` or ``_PATH``: a path names a secret, it is not one) is never interpolated, listed or
not: the list is in the config too, so a pull request could add to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from reconciler.model.names import did_you_mean

PREFIX = "RECONCILER_VAR_"
TARGET_NAMES = frozenset({"ENCORD_DOMAIN", "ENCORD_SSH_KEY_FILE"})
CREDENTIAL_NAMES = frozenset({"ENCORD_SSH_KEY", "ENCORD_BEARER_TOKEN", "RECONCILER_PLAN_KEY"})
_CREDENTIAL_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE")


def is_credential(name: str) -> bool:
    upper = name.upper()
    if upper in CREDENTIAL_NAMES:
        return True
    if upper.endswith(("_FILE", "_PATH")):
        return False
    return any(word in upper for word in _CREDENTIAL_WORDS)


class Variables(Mapping[str, str]):
    """The environment as the config sees it: every variable readable, with ``refusal``
    saying why a name may not be interpolated (None when it may)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        allowed: Iterable[str] = (),
        *,
        values: Mapping[str, str] | None = None,
        environment: str | None = None,
    ) -> None:
        self.environ = environ
        self.allowed = frozenset(allowed)
        # ``${var.NAME}``: the selected environment's ``variables:`` (None: none selected)
        self.var_values: Mapping[str, str] = values or {}
        self.environment = environment

    def missing_variable(self, name: str) -> str:
        """Why ``${var.NAME}`` has no value, in one line."""
        if self.environment is None:
            return (
                f"${{var.{name}}}: no environment is selected; variables are declared under "
                "environments.<name>.variables in reconciler.yaml, chosen with --env NAME"
            )
        hint = did_you_mean(name, self.var_values)
        return (
            f"${{var.{name}}}: environment {self.environment} has no variable {name}{hint}; "
            f"add it under environments.{self.environment}.variables in reconciler.yaml, or "
            f"write ${{var.{name}:-default}}"
        )

    def refusal(self, name: str) -> str | None:
        if is_credential(name):
            return (
                f"${{{name}}} looks like a credential and is never interpolated: config values "
                "are shown in plans and reports and written to Encord; give the command the "
                "secret through its own flag or variable instead"
            )
        if name in self.allowed or name in TARGET_NAMES or name.startswith(PREFIX):
            return None
        return (
            f"variable {name} is not one the config may read: list it under variables: in "
            f"reconciler.yaml, or name it {PREFIX}{name}"
        )

    def __getitem__(self, name: str) -> str:
        return self.environ[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.environ)

    def __len__(self) -> int:
        return len(self.environ)
