"""The one canonicaliser: desired and live values are compared only in this form.

Rules (the same for both sides, so planning twice against an unchanged organisation is empty):

* metadata values: ``True`` and ``1`` differ (a bool is never a number); ``1`` and ``1.0`` are
  equal (integral floats become ints); mapping key order is irrelevant; tuples are lists;
  NaN equals NaN (otherwise a NaN would show as a change forever);
* descriptions of groups and datasets: our ownership tag (and the space before it) is removed;
* roles: ``"admin"``/``"user"`` whatever the wire spelling (``0``/``1``, upper case);
* metadata schema descriptors: defaults filled in (``number`` → ``F64``, ``varchar`` →
  8192, ``embedding.api`` → null) and the SDK's legacy ``variant`` hints mapped
  (``long_string`` → ``text``, ``string`` → ``varchar``).

``canonical`` returns the normal form (JSON-able, keys sorted); ``equivalent`` decides
``canonical(a) == canonical(b)`` without building it, which matters for a million items.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from reconciler.model.desired import OWNERSHIP_TAG, ownership_tag
from reconciler.model.desired import description_owner as description_owner  # its old home


def canonical(value: Any) -> Any:
    """The normal form of a JSON-like value (see the module docstring)."""
    # Exact types first: isinstance against ``Mapping`` or a ``list | tuple`` union costs
    # several times a plain check, and a million items' metadata passes through here.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        if _STR.issuperset(map(type, value)) and _PLAIN.issuperset(map(type, value.values())):
            return dict(sorted(value.items()))  # flat metadata: its own normal form, sorted
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if kind is list:
        return [canonical(v) for v in value]
    return _canonical_other(value)


_STR = frozenset({str})
_PLAIN = frozenset({str, int, bool, type(None)})  # the values that are their own normal form


class SharedViews:
    """``canonical`` of values one plan passes many times, one normal form per distinct
    object: the live items of a large plan share one metadata dict per distinct
    ``clientMetadata`` text, and their changed items one desired dict per fold, so a hundred
    thousand item changes need a handful of views, not two dicts each (about 370 bytes a
    change). Keyed by identity, holding each value so that its ``id`` is not reused; the
    values must not change while the plan is made (live state and folds never do), and the
    views returned are shared: never mutate one. Past ``limit`` distinct objects, or
    ``limit`` distinct flat contents (nothing is shared, e.g. a per-item key in every
    item's metadata), it stops remembering more of them."""

    __slots__ = ("_alike", "_limit", "_seen")

    def __init__(self, limit: int = 65536) -> None:
        self._seen: dict[int, tuple[Any, Any]] = {}
        # Flat views by content (with each value's type: ``1 == True``), for equal values
        # that are distinct objects (metadata not shared by the read).
        self._alike: dict[tuple[tuple[str, Any, type], ...], dict[str, Any]] = {}
        self._limit = limit

    def __call__(self, value: Any) -> Any:
        found = self._seen.get(id(value))
        if found is not None:
            return found[1]
        view = self._flat(value) if type(value) is dict else None
        if view is None:
            view = canonical(value)
        if len(self._seen) < self._limit:
            self._seen[id(value)] = (value, view)
        return view

    def _flat(self, value: dict[Any, Any]) -> dict[str, Any] | None:
        """The shared view of flat metadata (string keys, values their own normal form:
        ``canonical`` is the dict sorted), found by content (each value's type with it,
        ``1 == True``) before any dict is made; None for other values. Looked up past the
        limit of ``_seen`` too: a plan whose items each hold their own (equal) metadata
        dicts fills that with objects it will not see again."""
        if not _STR.issuperset(map(type, value)):
            return None
        kinds = tuple(map(type, value.values()))
        if not _PLAIN.issuperset(kinds):
            return None
        key = tuple(sorted(zip(value, value.values(), kinds, strict=True)))
        view = self._alike.get(key)
        if view is None:
            view = dict(sorted(value.items()))
            if len(self._alike) < self._limit:
                self._alike[key] = view
        return view


def _canonical_other(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**63:
            return int(value)
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def equivalent(a: Any, b: Any) -> bool:
    """``canonical(a) == canonical(b)``, computed directly."""
    if a is b:
        return True
    kind = type(a)
    if kind is type(b) and (kind is str or kind is int):
        return bool(a == b)  # the common case, decided without the checks below
    if kind is dict and type(b) is dict:
        if len(a) != len(b):
            return False
        return all(k in b and equivalent(v, b[k]) for k, v in a.items())
    if kind is float and type(b) is float:
        return bool(a == b) or (math.isnan(a) and math.isnan(b))
    if kind is str or type(b) is str:  # a string equals only an equal string
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if len(a) != len(b):
            return False
        return all(k in b and equivalent(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(equivalent(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping | list | tuple) or isinstance(b, Mapping | list | tuple):
        return False
    return bool(a == b)


def strip_tag(description: str) -> str:
    """The description without a trailing ownership tag (ours or anyone's)."""
    return OWNERSHIP_TAG.sub("", description)


def tagged(description: str, ownership_id: str) -> str:
    """A description carrying our tag, as written on objects we create."""
    tag = ownership_tag(ownership_id)
    return f"{description} {tag}" if description else tag


_ROLES = {"admin": "admin", "user": "user", "0": "admin", "1": "user"}


def canonical_role(role: Any) -> str:
    """``admin`` or ``user`` from any spelling the API uses (ints on datasets)."""
    if isinstance(role, bool):
        raise ValueError(f"not a role: {role!r}")
    key = str(role).strip().lower()
    try:
        return _ROLES[key]
    except KeyError:
        raise ValueError(f"not a role: {role!r}") from None


_HINTS = {"long_string": "text", "string": "varchar"}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "number": {"format": "F64"},
    "varchar": {"max_length": 8192},
    "datetime": {"timezone": "UTC"},
    "embedding": {"api": None},
}


def canonical_descriptor(descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """A metadata-schema descriptor with defaults filled in and legacy hints mapped."""
    out: dict[str, Any] = dict(canonical(descriptor))
    ty = out.get("ty")
    for key, default in _DEFAULTS.get(str(ty), {}).items():
        if out.get(key) is None:
            out[key] = default
    if ty == "variant" and isinstance(out.get("hint"), str):
        out["hint"] = _HINTS.get(out["hint"], out["hint"])
    if ty == "tombstone" and isinstance(out.get("deleted_ty"), Mapping):
        out["deleted_ty"] = canonical_descriptor(out["deleted_ty"])
    return out
