"""``adopt: true`` or ``release: true`` written into a declaration, in the file that holds it.

``reconciler adopt`` and ``reconciler release`` edit the YAML text itself, one line or a few
characters per declaration, so comments, order and quoting stay as the team wrote them:

* a block mapping gains the line ``adopt: true`` before its first key, at its indentation;
* a flow mapping (``{…}``, ``{}`` included) gains ``adopt: true`` after its ``{``;
* an empty declaration (``/a:``, ``/a: ~``) becomes ``/a: {adopt: true}``;
* the opposite claim (``release: true`` when adopting) has its key renamed.

Anything else (an alias, a merge key, a value that is not a mapping) is not edited: the
caller is told to add the line by hand. The caller loads the config again afterwards and
checks that exactly the intended declarations changed (``reconciler.cli.claim``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from reconciler.errors import ReconcilerError
from reconciler.model.desired import Claim

_OPPOSITE: dict[Claim, Claim] = {"adopt": "release", "release": "adopt"}
_EMPTY_VALUE = re.compile(r"(\s*:)[ \t]*(?:~|null|Null|NULL)?([ \t]*(?:#.*)?)$")


class ClaimEditError(ReconcilerError):
    """A declaration the claim could not be written into safely; says where and what to do."""


@dataclass(frozen=True, slots=True)
class ClaimEdit:
    """What ``with_claim`` did to one declaration: ``added``, ``flipped`` (the opposite claim
    renamed) or ``already`` (the text is unchanged)."""

    text: str
    outcome: str


def with_claim(text: str, file: str, section: str, name: str, claim: Claim) -> ClaimEdit:
    """``text`` (the YAML file ``file``) with ``claim: true`` in ``section``'s ``name``."""
    key, value = _declaration(text, file, section, name)
    where = f"{file}:{key.start_mark.line + 1}:{key.start_mark.column + 1}"
    if value.start_mark.index < key.start_mark.index:  # an alias: the mapping is shared
        raise _by_hand(where, section, name, claim, "it is an alias")
    if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
        return ClaimEdit(_fill_empty(text, key, where, section, name, claim), "added")
    if not isinstance(value, yaml.MappingNode):
        raise _by_hand(where, section, name, claim, "its value is not a mapping")
    keys = {k.value: (k, v) for k, v in value.value if isinstance(k, yaml.ScalarNode)}
    if "<<" in keys:
        raise _by_hand(where, section, name, claim, "it merges another mapping")
    if claim in keys:  # ``adopt: false`` becomes true
        found = keys[claim][1]
        if _true(found):
            return ClaimEdit(text, "already")
        return ClaimEdit(_replaced(text, found, "true"), "added")
    opposite = keys.get(_OPPOSITE[claim])
    if opposite is not None and _true(opposite[1]):
        return ClaimEdit(_replaced(text, opposite[0], claim), "flipped")
    if value.flow_style:
        at = value.start_mark.index + 1
        rest = ", " if value.value else ""
        return ClaimEdit(text[:at] + f"{claim}: true" + rest + text[at:], "added")
    first = value.value[0][0].start_mark
    at = first.index - first.column
    return ClaimEdit(text[:at] + " " * first.column + f"{claim}: true\n" + text[at:], "added")


def _declaration(text: str, file: str, section: str, name: str) -> tuple[yaml.Node, yaml.Node]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ClaimEditError(f"{file}: not YAML any more ({error.__class__.__name__})") from None
    for _, entries in _pairs(root, section):
        for key, value in _pairs(entries, name):
            return key, value
    raise ClaimEditError(
        f"{file}: {section} {name!r} is not written there as a plain key (a template or a "
        "variable made it); add the claim to its declaration by hand"
    )


def _pairs(node: yaml.Node | None, key: str) -> list[tuple[yaml.Node, yaml.Node]]:
    """The (key, value) pairs of a mapping whose key is the plain scalar ``key``."""
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]


def _true(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value in ("true", "True", "TRUE")


def _fill_empty(
    text: str, key: yaml.Node, where: str, section: str, name: str, claim: Claim
) -> str:
    start = key.end_mark.index
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    found = _EMPTY_VALUE.match(text, start, end)
    if found is None:
        raise _by_hand(where, section, name, claim, "its empty value is not on the key's line")
    filled = f"{found.group(1)} {{{claim}: true}}{found.group(2)}"
    return text[:start] + filled + text[end:]


def _replaced(text: str, node: yaml.Node, new: str) -> str:
    return text[: node.start_mark.index] + new + text[node.end_mark.index :]


def _by_hand(where: str, section: str, name: str, claim: Claim, why: str) -> ClaimEditError:
    kind = section.rstrip("s")
    return ClaimEditError(
        f"{where}: {kind} {name} was left as it is ({why}); add '{claim}: true' to it by hand"
    )
