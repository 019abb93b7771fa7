"""The JSON Schema (2020-12) of the plan document, as a value.

``schemas/plan.schema.json`` is this value written out (a test keeps the two identical), so the
planner validates plan files without reading any file. Bump ``$id`` (``v2``) and
``FORMAT_VERSION`` together when the document changes incompatibly.
"""

from __future__ import annotations

from typing import Any, get_args

from reconciler.model.addresses import Kind
from reconciler.plan.actions import Action
from reconciler.plan.document import SCHEMA_ID
from reconciler.plan.model import FORMAT_VERSION, SUMMARY_KEYS, RefusalCode

_REFUSAL_CODES = list(get_args(RefusalCode))  # one list: the Literal in model.py
_KINDS = [k.value for k in Kind]
_NULLABLE_STRING = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_REF_KEYS = (
    "uuid",
    "parent_uuid",
    "parent_path",
    "from_parent_uuid",
    "folder_uuid",
    "group_hash",
    "dataset_uuid",
    "item_uuid",
    "integration_uuid",
    "email",
    "collection_uuid",
)


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


_FIELD_DIFF = _object(
    {
        "path": {
            "type": "array",
            "minItems": 1,
            "items": {"type": ["string", "integer"]},
            "description": "Keys from the top of the object to the value that differs.",
        },
        "op": {"enum": ["add", "remove", "change"]},
        "before": {"description": "The live value (null for add)."},
        "after": {"description": "The desired value (null for remove)."},
    }
)

_REFS = _object(
    {
        **{key: {"type": "string"} for key in _REF_KEYS},
        "data_hashes": {**_STRINGS, "minItems": 1},
    },
    required=[],
)

_CHANGE = _object(
    {
        "address": {"type": "string", "pattern": "^(" + "|".join(_KINDS) + "):.+"},
        "previous_address": _NULLABLE_STRING,
        "kind": {"enum": _KINDS},
        "actions": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": [a.value for a in Action]},
        },
        "before": {"type": ["object", "null"]},
        "after": {"type": ["object", "null"]},
        "diff": {"type": "array", "items": {"$ref": "#/$defs/field_diff"}},
        "source": {**_NULLABLE_STRING, "description": "file:line of the declaration."},
        "reason": {"type": "string", "description": "Display only; never drives apply."},
        "fingerprint": {**_NULLABLE_STRING, "description": "lastEditedAt or content hash."},
        "depends_on": _STRINGS,
        "refs": {"$ref": "#/$defs/refs"},
    }
)

_REFUSAL = _object(
    {
        "code": {"enum": _REFUSAL_CODES},
        "message": {"type": "string"},
        "addresses": _STRINGS,
        "withheld": {"type": "boolean"},
        "count": {"type": "integer", "minimum": 0},
    }
)

CALLER_SCHEMA = {
    "description": (
        "Who read the live state: email and organisation role, null when the API could not "
        "single the caller out; admin: whether the organisation-wide listing was granted."
    ),
    "oneOf": [
        {"type": "null"},
        _object(
            {
                "email": _NULLABLE_STRING,
                "role": _NULLABLE_STRING,
                "admin": {"type": ["boolean", "null"]},
            }
        ),
    ],
}

_COUNT = {"type": "integer", "minimum": 0}
_PHASE_COST_KEYS = ["phase", "requests", "reads", "rounds"]
_COST_KEYS = ["requests", "phases", "concurrency", "latency_ms", "seconds"]
_COST = _object(
    {
        "requests": _COUNT,
        "phases": {
            "type": "array",
            "items": _object(
                {
                    "phase": {"type": "string"},
                    "requests": _COUNT,
                    "reads": _COUNT,
                    "rounds": _COUNT,
                    "read_objects": _COUNT,
                    "written_objects": _COUNT,
                },
                required=_PHASE_COST_KEYS,
            ),
        },
        "concurrency": {"type": "integer", "minimum": 1},
        "latency_ms": {"type": ["number", "null"], "minimum": 0},
        "object_ms": {"type": ["number", "null"], "minimum": 0},
        "write_factor": {"type": "number", "minimum": 0},
        "write_factor_applies": {"type": "integer", "minimum": 1},
        "client_ms": {"type": "number", "minimum": 0},
        "seconds": {"type": ["number", "null"], "minimum": 0},
    },
    # object_ms and the objects came later: older plan files lack them; client_ms is there
    # only when the read measured it, write_factor_applies only when applies measured it
    required=_COST_KEYS,
)
_COST["description"] = (
    "What applying will cost, estimated when the plan was made: requests per phase when "
    "every call succeeds at once (reads: the re-reads before writing that a saved or "
    "confirmed plan makes), rounds of round trips one after another, and the objects the "
    "phase re-reads and writes. Per phase, seconds = prepare + max(rounds x latency_ms, "
    "latency_ms + (read_objects + written_objects x write_factor) x object_ms), where prepare "
    "is the client's work on the phase's first requests before the first goes out: the "
    "larger of read_objects and written_objects x client_ms x 0.25 when the phase re-reads "
    "first, 0.4 when it writes first (0 without client_ms): latency_ms is the median "
    "time of the light requests of the read just made (answers of few objects), object_ms "
    "what an object of its bulk answers cost beyond a round trip and the answer before it, "
    "write_factor the cost of writing an object against reading it: the median of what the "
    "last write_factor_applies applies to this target showed, or an assumed default when "
    "that is absent, client_ms the client's CPU per object of the read. Display only: not "
    "covered by the checksum, never read by apply. Absent from an empty plan."
)

_DEFERRAL = _object({"folder": {"type": "string"}, "rules": _STRINGS, "datasets": _STRINGS})

PLAN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "reconciler plan",
    "description": (
        "What `reconciler apply` will do, exactly as reviewed. `checksum` is sha256 over the "
        "canonical JSON (sorted keys, no whitespace, UTF-8) of the document without it and "
        "without `cost`."
    ),
    **_object(
        {
            "$schema": {"const": SCHEMA_ID},
            "format_version": {"const": FORMAT_VERSION},
            "tool_version": {"type": "string"},
            "target": {"type": "string"},
            "created_at": _NULLABLE_STRING,
            "config_dir": {"type": "string"},
            "environment": {
                "description": (
                    "The environment of the config (environments: in reconciler.yaml) the "
                    "plan was made for; absent when it declares none. A plan applies only "
                    "to its own."
                ),
                "type": "string",
            },
            "ownership_id": {"type": "string"},
            "caller": CALLER_SCHEMA,
            "forced": {"type": "boolean"},
            "takeover": {
                "type": "boolean",
                "description": "Planned with --takeover: adopt may take objects another "
                "ownership id marks. Present only when true.",
            },
            "only": _STRINGS,
            "item_roots": {"type": ["array", "null"], "items": {"type": "string"}},
            "summary": _object({k: {"type": "integer", "minimum": 0} for k in SUMMARY_KEYS}),
            "changes": {"type": "array", "items": {"$ref": "#/$defs/change"}},
            "fingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
            "refusals": {"type": "array", "items": {"$ref": "#/$defs/refusal"}},
            "deferred": {"type": "array", "items": {"$ref": "#/$defs/deferral"}},
            "unmanaged": _STRINGS,
            "warnings": {
                **_STRINGS,
                "description": "One line each: selectors and manifest rows that match nothing, "
                "a caller that may not see everything. Never block apply.",
            },
            "checksum": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            "cost": _COST,
        },
        required=[
            "format_version",
            "tool_version",
            "target",
            "ownership_id",
            "summary",
            "changes",
            "refusals",
            "checksum",
        ],
    ),
    "$defs": {
        "change": _CHANGE,
        "field_diff": _FIELD_DIFF,
        "refs": _REFS,
        "refusal": _REFUSAL,
        "deferral": _DEFERRAL,
    },
}
