"""The kind registry: ``spec_of(kind)`` is everything one kind of object means.

A kind is one module here (``folder``, ``item``, ``group``, ``dataset``, ``access`` for the
folder-group, dataset-group and dataset-user relations, ``link``, ``schema``), each defining
a ``KindSpec``. The planner's order, apply's phases, bundles and operations, and drift's
classification look the kind up here instead of testing ``change.kind``.

The kind modules are imported on the first ``spec_of`` call, not with this package: they
use the plan's values (``Action``), and ``reconciler.plan`` (whose package imports its whole
pipeline) uses this registry, so importing them here would make ``import reconciler.kinds``
before ``reconciler.plan`` a cycle. Nothing may call ``spec_of`` while modules are being
imported. Apply's operations are named by a function of each spec for the same reason.
"""

from __future__ import annotations

from reconciler.kinds.phase import PHASES, Phase
from reconciler.kinds.spec import KindSpec
from reconciler.model.addresses import Kind

__all__ = ["PHASES", "KindSpec", "Phase", "all_specs", "spec_of"]

_SPECS: dict[Kind, KindSpec] = {}


def spec_of(kind: Kind) -> KindSpec:
    try:
        return _SPECS[kind]
    except KeyError:
        return _load()[kind]


def all_specs() -> tuple[KindSpec, ...]:
    return tuple(_load().values())


def _load() -> dict[Kind, KindSpec]:
    if not _SPECS:
        from reconciler.kinds import access, dataset, folder, group, item, link, schema

        specs = (
            folder.SPEC,
            item.SPEC,
            group.SPEC,
            dataset.SPEC,
            access.FOLDER_GROUP,
            access.DATASET_GROUP,
            access.DATASET_USER,
            link.SPEC,
            schema.SPEC,
        )
        _SPECS.update((spec.kind, spec) for spec in specs)
    return _SPECS
