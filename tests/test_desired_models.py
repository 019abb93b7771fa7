"""The desired-state models are frozen, slotted, keyword-only dataclasses whose equality, hash
and repr come from one shared base (``Declaration``) instead of being generated per class:
they must behave exactly as the generated ones would, and as values (immutable, hashable
when their fields are)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any

import pytest

from reconciler.model import desired
from reconciler.model.declaration import Declaration
from reconciler.model.desired import (
    DesiredFolder,
    DesiredState,
    ItemMatch,
    Ownership,
    Policy,
    Source,
    Target,
)

SOURCE = Source(file="reconciler.yaml", line=1)
MODELS: list[Any] = [
    cls
    for cls in vars(desired).values()
    if isinstance(cls, type) and issubclass(cls, Declaration) and cls is not Declaration
]


def _twin(cls: type) -> type:
    """A dataclass with the same fields whose eq, hash and repr ``dataclass`` generates."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True, kw_only=True)


def test_every_model_is_a_frozen_slotted_keyword_only_dataclass() -> None:
    assert len(MODELS) >= 20
    for cls in MODELS:
        params = cls.__dataclass_params__
        assert not params.eq and not params.repr, cls  # Declaration's, not generated
        assert "__slots__" in vars(cls) and "__dict__" not in dir(cls), cls
        assert all(f.kw_only for f in dataclasses.fields(cls)), cls
        # frozen as ``frozen=True`` makes it, without generating __setattr__/__delattr__
        assert "__setattr__" not in vars(cls) and "__delattr__" not in vars(cls), cls


def _example(cls: type) -> Any:
    """An instance of ``cls`` with every required field set to a placeholder."""
    required = [f.name for f in dataclasses.fields(cls) if _no_default(f)]
    return cls(**{name: f"<{name}>" for name in required})


def _no_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def test_every_model_refuses_assignment_and_deletion_as_a_frozen_dataclass_does() -> None:
    for cls in MODELS:
        one, twin = _example(cls), _example(_twin(cls))
        name, before = dataclasses.fields(cls)[0].name, repr(one)
        for model in (one, twin):
            with pytest.raises(dataclasses.FrozenInstanceError, match=f"assign to field '{name}'"):
                setattr(model, name, 1)
            with pytest.raises(dataclasses.FrozenInstanceError, match=f"delete field '{name}'"):
                delattr(model, name)
            with pytest.raises((dataclasses.FrozenInstanceError, AttributeError)):
                model.not_a_field = 1
        assert repr(one) == before, cls  # unchanged


def test_init_takes_what_the_generated_one_takes() -> None:
    """Every field a keyword, with the same defaults; a fresh mapping from each factory."""
    for cls in MODELS:
        ours, generated = inspect.signature(cls), inspect.signature(_twin(cls))
        assert list(ours.parameters) == list(generated.parameters), cls
        for name, param in ours.parameters.items():
            other = generated.parameters[name]
            assert param.kind is other.kind is inspect.Parameter.KEYWORD_ONLY, (cls, name)
            factory = (
                other.default is not inspect.Parameter.empty and repr(other.default) == "<factory>"
            )
            if not factory:
                assert param.default == other.default, (cls, name)
        one = _example(cls)
        assert repr(one) == repr(_example(_twin(cls))), cls


def test_models_copy_and_pickle_as_values() -> None:
    folder = DesiredFolder(path="/a", metadata={"k": 1}, previously=("/b",), source=SOURCE)
    for model in (folder, Policy(max_delete_ratio=1), SOURCE):
        for copied in (copy.copy(model), copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
            assert copied == model and repr(copied) == repr(model) and copied is not model


def test_equality_hash_and_repr_are_the_ones_dataclass_would_generate() -> None:
    cases: list[tuple[Any, Any]] = [
        (Source(file="a.yaml", line=3), Source(file="a.yaml", line=3, col=2)),
        (Ownership(id="team-a"), Ownership(id="team-b")),
        (ItemMatch(name="*.jpg", types=("image",)), ItemMatch(name="*.jpg")),
        (Policy(protect=("/raw/**",)), Policy(prune="never")),
    ]
    for one, other in cases:
        twin = _twin(type(one))
        a, b = (twin(**{f: getattr(x, f) for f in one.__dataclass_fields__}) for x in (one, other))
        assert repr(one) == repr(a) and repr(other) == repr(b)
        assert hash(one) == hash(a) and hash(other) == hash(b)  # the same tuple hashed
        assert one != other and a != b
        copy = dataclasses.replace(one)
        assert copy == one and hash(copy) == hash(one) and copy is not one
        assert len({one, copy, other}) == 2


def test_another_class_or_type_is_never_equal() -> None:
    assert Ownership(id="a") != "a"
    assert Ownership(id="a").__eq__(("a",)) is NotImplemented
    assert Target() != Ownership(id="a")


def test_a_model_holding_a_mapping_is_equal_but_unhashable_as_a_dataclass_is() -> None:
    one = DesiredFolder(path="/a", metadata={"k": 1}, source=Source(file="f.yaml", line=1))
    assert one == dataclasses.replace(one, metadata={"k": 1})
    assert one != dataclasses.replace(one, metadata={"k": 2})
    with pytest.raises(TypeError, match="unhashable"):
        hash(one)


def test_models_are_immutable_and_keyword_only_and_refuse_unknown_fields() -> None:
    source = Source(file="a.yaml", line=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.line = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Source("a.yaml", 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="colum"):
        Source(file="a.yaml", line=1, colum=2)  # type: ignore[call-arg]


def test_defaults_are_not_shared_between_instances() -> None:
    one, two = (
        DesiredState(root_dir="/c", target=Target(), ownership=Ownership(id="x"), source=SOURCE)
        for _ in range(2)
    )
    assert one == two and one.folders == {} and one.folders is not two.folders
