"""The canonical JSON text of one change's document, as the checksum hashes it, built from
its pieces: byte for byte ``json.dumps(change_document(change), sort_keys=True,
separators=(",", ":"), ensure_ascii=False, allow_nan=False)``, about twice as fast.

A plan of a million items holds a hundred thousand changes, and the checksum encodes each.
Building each change's document and letting the encoder sort its thirteen keys costs more
than the values themselves: here the keys are written in their sorted order once, the
pieces that repeat across changes (actions, kind, reason) are encoded once, strings go
through the C string encoder and only the nested values (payloads, diff, refs) through the C
encoder, which sorts their keys as ``json.dumps`` does. ``tests/test_plan_changetext.py``
checks it against ``json.dumps`` of the document on varied changes.
"""

from __future__ import annotations

from _json import encode_basestring, make_encoder  # the C string and flat encoders
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from reconciler.kinds.item import ItemPayload
from reconciler.kinds.payload import encoded
from reconciler.plan.model import REF_FIELDS, Change, FieldDiff, Refs


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps' C encoder with its arguments: sort_keys, allow_nan=False, compact separators.
# No circular-reference markers: plan values are JSON data by construction (``canonical``).
_ENCODE = make_encoder(None, _no_default, encode_basestring, None, ":", ",", True, False, False)
_REPEATED: dict[Any, str] = {}  # actions, kinds and reasons: a handful of distinct values
_MAX_REPEATED = 4096


def _json(value: Any) -> str:
    return "".join(_ENCODE(value, 0))


def _repeated(value: Any, encode: Callable[[Any], str]) -> str:
    text = _REPEATED.get(value)
    if text is None:
        text = encode(value)
        if len(_REPEATED) < _MAX_REPEATED:
            _REPEATED[value] = text
    return text


def _actions(actions: tuple[Any, ...]) -> str:
    return _json([str(a) for a in actions])


def _diff(diff: tuple[FieldDiff, ...], shared: dict[int, str] | None) -> str:
    if not diff:
        return "[]"
    if shared is None:
        return "[" + ",".join(map(_leaf, diff)) + "]"
    # The planner shares a diff between the item changes going from one metadata view to
    # another (``describe.ItemDescriber``), and equal leaves (``describe._leaf``): each
    # written once.
    text = shared.get(id(diff))
    if text is None:
        text = "[" + ",".join([_remembered(d, _leaf, shared) for d in diff]) + "]"
        _remember(shared, diff, text)
    return text


def _remembered(value: Any, encode: Callable[[Any], str], shared: dict[int, str]) -> str:
    text = shared.get(id(value))
    if text is None:
        text = encode(value)
        _remember(shared, value, text)
    return text


def _remember(shared: dict[int, str], value: Any, text: str) -> None:
    if len(shared) < _MAX_SHARED:  # nothing shared (each item its own metadata): bounded
        shared[id(value)] = text


_MAX_SHARED = 65536


def _leaf(d: FieldDiff) -> str:
    return _json({"path": list(d.path), "op": d.op, "before": d.before, "after": d.after})


def _payload(value: Any, shared: dict[int, str] | None) -> str:
    if value is None:
        return "null"
    if type(value) is ItemPayload:  # most changes of a large plan: no dict made for it
        metadata = value.metadata  # shared between items (``canonical.SharedViews``)
        text = _json(metadata) if shared is None else _remembered(metadata, _json, shared)
        return '{"metadata":' + text + ',"path":' + _string(value.path) + "}"
    return _json(encoded(value))


def _string(value: Any) -> str:
    return encode_basestring(value) if type(value) is str else _json(value)


def _or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


# ``Refs``' fields in sorted order, read in one C call: their text written straight.
_REF_NAMES = sorted(REF_FIELDS)
_REF_VALUES = attrgetter(*_REF_NAMES)
_REF_KEYS = tuple(f'"{name}":' for name in _REF_NAMES)


# The fields ``Refs`` holds in slots (item changes' and links'), in sorted order.
_SLOT_NAMES = sorted(name for name in REF_FIELDS if name in Refs.__slots__)
_SLOT_VALUES = attrgetter(*_SLOT_NAMES)
_SLOT_KEYS = tuple(f'"{name}":' for name in _SLOT_NAMES)


def _refs(refs: Refs, refs_document: Callable[[Refs], dict[str, Any]]) -> str:
    """``_json(refs_document(refs))`` for refs of strings (every change but an unlink's):
    the fields set, in sorted order, without a dict made and sorted per change."""
    if refs.slots_only:  # item changes and links: four slots, no properties to call
        keys: tuple[str, ...] = _SLOT_KEYS
        values = _SLOT_VALUES(refs)
    else:
        keys, values = _REF_KEYS, _REF_VALUES(refs)
    parts = []
    for key, value in zip(keys, values, strict=True):
        if type(value) is str:
            parts.append(key + encode_basestring(value))
        elif value is not None and value != ():  # unlinks' data hashes: the document's way
            return _json(refs_document(refs))
    return "{" + ",".join(parts) + "}"


def change_text(
    change: Change,
    refs_document: Callable[[Refs], dict[str, Any]],
    shared: dict[int, str] | None = None,
) -> str:
    """The canonical text of ``change_document(change)`` (its ``refs`` by ``refs_document``).
    ``shared``: the caller's texts of diffs, diff leaves and item metadata by ``id``, kept
    for as long as the changes it passes are alive (so no id is reused), to encode what
    many changes share once."""
    if type(change.before) is ItemPayload and type(change.after) is ItemPayload:
        text = _item_text(change, shared)
        if text is not None:
            return text
    return _joined(
        change,
        _payload(change.after, shared),
        _payload(change.before, shared),
        _json(list(change.depends_on)) if change.depends_on else "[]",
        _diff(change.diff, shared),
        _or_null(change.previous_address),
        _refs(change.refs, refs_document),
    )


def _joined(
    change: Change, after: str, before: str, depends: str, diff: str, previous: str, refs: str
) -> str:
    """A change's text from the texts of its nested values, in sorted key order."""
    return "".join(
        (
            '{"actions":',
            _repeated(change.actions, _actions),
            ',"address":',
            encode_basestring(change.address),
            ',"after":',
            after,
            ',"before":',
            before,
            ',"depends_on":',
            depends,
            ',"diff":',
            diff,
            ',"fingerprint":',
            _or_null(change.fingerprint),
            ',"kind":',
            _repeated(change.kind, encode_basestring),
            ',"previous_address":',
            previous,
            ',"reason":',
            _repeated(change.reason, encode_basestring),
            ',"refs":',
            refs,
            ',"source":',
            _or_null(change.source),
            "}",
        )
    )


_UUID_AND_PARENT = attrgetter("uuid", "from_parent_uuid", "dataset_uuid", "item_uuid")


def _item_text(change: Change, shared: dict[int, str] | None) -> str | None:
    """``change_text`` of an item change that stays where it is (most changes of a large
    plan), its payloads and refs written straight rather than a call each, or None for
    another shape: both payloads items, nothing it depends on, refs of its UUID and parent
    alone."""
    refs = change.refs
    if change.depends_on or change.previous_address is not None or not refs.slots_only:
        return None
    uuid, parent, dataset, item = _UUID_AND_PARENT(refs)
    before, after = change.before, change.after
    assert type(before) is ItemPayload and type(after) is ItemPayload  # the caller's check
    if (
        type(uuid) is not str
        or type(parent) is not str
        or dataset is not None
        or item is not None
        or type(before.path) is not str
        or type(after.path) is not str
    ):
        return None
    if shared is None:
        after_text, before_text = _json(after.metadata), _json(before.metadata)
    else:
        after_text = _remembered(after.metadata, _json, shared)
        before_text = _remembered(before.metadata, _json, shared)
    return _joined(
        change,
        '{"metadata":' + after_text + ',"path":' + encode_basestring(after.path) + "}",
        '{"metadata":' + before_text + ',"path":' + encode_basestring(before.path) + "}",
        "[]",
        _diff(change.diff, shared),
        "null",
        '{"from_parent_uuid":'
        + encode_basestring(parent)
        + ',"uuid":'
        + encode_basestring(uuid)
        + "}",
    )
