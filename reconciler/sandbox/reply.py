"""A handler's answer, independent of Starlette until the very end (``to_response``)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class Reply:
    """A response: JSON ``body`` (or ready ``text``) with ``status`` 200 or an error status, or
    204 without a body."""

    status: int = 200
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    text: str | None = None  # the body already encoded as JSON text (wins over ``body``)
    # A handler may ask to be run again once ``wait`` (a threading.Event) is set or
    # ``wait_seconds`` have passed; the pipeline waits without holding a thread or transaction.
    wait: Any = None
    wait_seconds: float = 0.0

    def encoded(self) -> Reply:
        """The same answer with its body as JSON text (encoded once, here)."""
        if self.text is not None or self.status == 204 or self.wait is not None:
            return self
        return dataclasses.replace(self, text=json.dumps(self.body, separators=(",", ":")))

    def weight(self) -> int:
        return 256 + (len(self.text) if self.text is not None else 0)

    def to_response(self) -> Response:
        if self.status == 204:
            return Response(status_code=204, headers=dict(self.headers))
        text = self.text if self.text is not None else json.dumps(self.body, separators=(",", ":"))
        content = text.encode()
        return Response(content, self.status, dict(self.headers), "application/json")


NO_CONTENT = Reply(204)


def error_reply(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, {"message": message}, headers)
