"""The kind registry: ``spec_of(kind)`` is everything one kind of object means.

A kind is one module here (``folder``, ``item``, ``group``, ``dataset``, ``access`` for the
folder-group, dataset-group and dataset-user relations, ``link``, ``schema``, ``tag``,
``collection`` for collections and their members, ``user``, ``register`` for registered
cloud data, ``folder_config`` for sidecar settings), each defining
a ``KindSpec`` and, for the kinds typed so far, its payload. The planner's order, apply's
phases, bundles and operations, and drift's classification look the kind up here instead
of testing ``change.kind``.

The package sits below the planner and apply: at run time it imports only ``model`` and
itself (``Change`` and ``Step`` are annotations; ``Action`` and ``Phase`` live here; each
spec names its apply operations by a function that imports them on use). So any module may
import it first, and the planner never imports apply's HTTP code through it.
"""

from __future__ import annotations

from reconciler.kinds import (
    access,
    collection,
    dataset,
    folder,
    folder_config,
    group,
    item,
    link,
    register,
    schema,
    tag,
    user,
)
from reconciler.kinds.phase import PHASES, Phase
from reconciler.kinds.spec import KindSpec
from reconciler.model.addresses import Kind

__all__ = ["PHASES", "KindSpec", "Phase", "all_specs", "spec_of"]

_SPECS: dict[Kind, KindSpec] = {
    spec.kind: spec
    for spec in (
        folder.SPEC,
        item.SPEC,
        group.SPEC,
        dataset.SPEC,
        access.FOLDER_GROUP,
        access.DATASET_GROUP,
        access.DATASET_USER,
        link.SPEC,
        schema.SPEC,
        tag.SPEC,
        collection.SPEC,
        collection.ITEM_SPEC,
        user.SPEC,
        register.SPEC,
        folder_config.SPEC,
    )
}


def spec_of(kind: Kind) -> KindSpec:
    return _SPECS[kind]


def all_specs() -> tuple[KindSpec, ...]:
    return tuple(_SPECS.values())
