"""The base of the desired-state models: ``@declaration`` makes a class a frozen, slotted,
keyword-only dataclass whose methods are written once here instead of generated per class.

Why: ``dataclass`` compiles every method it generates, and ``reconciler validate`` builds all
the desired models at start-up. ``frozen=True`` alone costs two compilations per class (its
``__setattr__`` and ``__delattr__``), which were about 40% of importing ``model/desired.py``.
Here equality, hash, repr, immutability and pickling are methods of ``Declaration``, shared
by every model, and ``__init__`` is the only method compiled per class (by ``_init``, the same
code ``dataclass(frozen=True, kw_only=True)`` writes). ``dataclass`` still makes the fields,
the slots and ``__dataclass_fields__``, so ``dataclasses.fields`` and ``dataclasses.replace``
work as before; for type checkers ``dataclass_transform`` says what the class is.
``tests/test_desired_models.py`` checks the models behave as generated frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")


class Declaration:
    """What every model shares: equality, hash and repr from its fields, exactly as
    ``dataclass`` generates them, and immutability as ``frozen=True`` gives it."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self) == _values(other)

    def __hash__(self) -> int:
        return hash(_values(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _names(self))
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    # Pickling and copying restore slots through object.__setattr__, as dataclass does for
    # its frozen slotted classes (the inherited way would call __setattr__ above).
    def __getstate__(self) -> list[Any]:
        return list(_values(self))

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(_names(self), state, strict=True):
            object.__setattr__(self, name, value)


def _values(declaration: Declaration) -> tuple[Any, ...]:
    return tuple(getattr(declaration, name) for name in _names(declaration))


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # model class -> its field names, in order


def _names(declaration: Any) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(type(declaration))
    if names is None:
        names = _FIELD_NAMES[type(declaration)] = tuple(f.name for f in fields(declaration))
    return names


@dataclass_transform(frozen_default=True, kw_only_default=True, eq_default=False)
def declaration(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)`` for a
    subclass of ``Declaration``, with one compiled method (``__init__``) instead of three."""
    assert issubclass(cls, Declaration), cls
    made: Any = dataclass(init=False, repr=False, eq=False, slots=True, kw_only=True)(cls)
    made.__init__ = _init(made)
    return made  # type: ignore[no-any-return]


def _init(cls: type) -> Any:
    """The ``__init__`` that ``dataclass(frozen=True, kw_only=True)`` would write: every field
    a keyword, defaults and default factories, then ``__post_init__`` if the class has one."""
    scope: dict[str, Any] = {"_set": object.__setattr__, "_MISSING": MISSING}
    params, body = [], []
    for f in fields(cls):
        value = f.name
        if f.default is not MISSING:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            value = f"_factory_{f.name}() if {f.name} is _MISSING else {f.name}"
        else:
            params.append(f.name)
        body.append(f"    _set(self, {f.name!r}, {value})\n")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    keywords = f"*, {', '.join(params)}" if params else ""
    source = f"def __init__(self, {keywords}):\n" + ("".join(body) or "    pass\n")
    exec(source, scope)  # our own text, built from the class's field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
