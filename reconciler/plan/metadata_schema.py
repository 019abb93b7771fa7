"""The organisation's metadata schema: set when a declared key's descriptor differs.

The API replaces the whole schema on set, and the schema is shared by the organisation, so
the plan's ``after`` is the live schema with the declared keys set: keys declared by others
stay. Descriptors are compared in canonical form (``canonical_descriptor``).
"""

from __future__ import annotations

from reconciler.kinds.schema import SchemaPayload
from reconciler.model import addresses as addr
from reconciler.model.live import content_fingerprint
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical_descriptor, equivalent
from reconciler.plan.context import Context
from reconciler.plan.describe import field_diff
from reconciler.plan.model import Change


def plan_metadata_schema(ctx: Context) -> tuple[Change, ...]:
    declared = ctx.desired.metadata_schema
    if declared is None:
        return ()
    raw = ctx.live.metadata_schema
    live = {k: canonical_descriptor(v) for k, v in (raw or {}).items()}
    wanted = {k: canonical_descriptor(v) for k, v in declared.keys.items()}
    if all(k in live and equivalent(live[k], v) for k, v in wanted.items()):
        return ()
    before = None if raw is None else SchemaPayload(dict(sorted(live.items())))
    after = SchemaPayload(dict(sorted({**live, **wanted}.items())))
    return (
        Change(
            address=addr.METADATA_SCHEMA,
            kind=addr.Kind.METADATA_SCHEMA,
            actions=(Action.CREATE if raw is None else Action.PATCH,),
            before=before,
            after=after,
            diff=field_diff(before, after),
            source=str(declared.source),
            reason="declared keys differ (keys declared by others are kept)",
            fingerprint=None if before is None else content_fingerprint(before.encode()),
        ),
    )
