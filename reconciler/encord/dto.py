"""Wire DTOs as the client returns them: the shared models, plus the ``lastEditedAt`` text.

Fingerprints must be the ``lastEditedAt`` string exactly as the API sent it (the format of a
real server is not known, and re-formatting a parsed datetime could change it), so the models
the client parses responses into keep that text next to the parsed value, in a field that is
read from the same key and never dumped.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, Field

from reconciler.wire.base import WireModel, format_datetime
from reconciler.wire.datasets import DatasetWithUserRole
from reconciler.wire.storage import StorageFolder, StorageItem

_EDITED = AliasChoices("lastEditedAt", "last_edited_at")


class _EditedText(WireModel):
    # str when parsed from JSON; a datetime (or nothing) when the model was built in Python.
    edited_raw: str | datetime | None = Field(default=None, validation_alias=_EDITED, exclude=True)

    @property
    def last_edited_text(self) -> str:
        """``lastEditedAt`` as the API wrote it (formatted from the datetime if built locally)."""
        if isinstance(self.edited_raw, str):
            return self.edited_raw
        edited = getattr(self, "last_edited_at", None)
        return format_datetime(edited) if edited is not None else ""


class Folder(StorageFolder, _EditedText):
    """A storage folder as listed or fetched; ``metadata()`` parses ``clientMetadata``."""


class Item(StorageItem, _EditedText):
    """A storage item as listed or fetched; ``metadata()`` parses ``clientMetadata``."""


class Dataset(DatasetWithUserRole, _EditedText):
    """A dataset row of ``datasets/list`` (``userRole`` is the caller's role, a string)."""
