"""Wire DTOs as the client returns them: the shared models, plus the ``lastEditedAt`` text.

Fingerprints must be the ``lastEditedAt`` string exactly as the API sent it (the format of a
real server is not known, and re-formatting a parsed datetime could change it), so the models
the client parses responses into remember that text next to the parsed value.
"""

from __future__ import annotations

from typing import Any

from pydantic import PrivateAttr, ValidatorFunctionWrapHandler, model_validator

from reconciler.wire.base import WireModel, format_datetime
from reconciler.wire.datasets import DatasetWithUserRole
from reconciler.wire.storage import StorageFolder, StorageItem


class _EditedText(WireModel):
    _edited_text: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_edited_text(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict):
            raw = data.get("lastEditedAt", data.get("last_edited_at"))
            if isinstance(raw, str):
                model._edited_text = raw
        return model

    @property
    def last_edited_text(self) -> str:
        """``lastEditedAt`` as the API wrote it (formatted from the datetime if built locally)."""
        if self._edited_text is not None:
            return self._edited_text
        edited = getattr(self, "last_edited_at", None)
        return format_datetime(edited) if edited is not None else ""


class Folder(StorageFolder, _EditedText):
    """A storage folder as listed or fetched; ``metadata()`` parses ``clientMetadata``."""


class Item(StorageItem, _EditedText):
    """A storage item as listed or fetched; ``metadata()`` parses ``clientMetadata``."""


class Dataset(DatasetWithUserRole, _EditedText):
    """A dataset row of ``datasets/list`` (``userRole`` is the caller's role, a string)."""
