"""Which operation carries out which step: the step's kind names it for the step's phase
(``KindSpec.operations``). One instance of each per run (some remember what they read for
the rest of the run, such as a dataset's rows)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reconciler.apply.executor import Operation
from reconciler.apply.phases import Phase, Step
from reconciler.kinds import spec_of
from reconciler.model.addresses import Kind


class Operations:
    """``operations(step)`` is the operation for ``step``; instances live for one run."""

    def __init__(self) -> None:
        self._made: dict[Callable[[], Operation], Operation] = {}
        self._tables: dict[Kind, Mapping[Phase, Callable[[], Operation]]] = {}

    def __call__(self, step: Step) -> Operation:
        kind = step.change.kind
        if kind not in self._tables:
            self._tables[kind] = spec_of(kind).operations()
        make = self._tables[kind].get(step.phase)
        if make is None:
            raise ValueError(f"no operation for {step.change.kind} in phase {step.phase}")
        if make not in self._made:
            self._made[make] = make()
        return self._made[make]
