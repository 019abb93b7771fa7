"""Per-route request counters, read and reset through ``/_sandbox/stats``.

Keys are the method and the route template (``GET /v2/public/storage/folders/{uuid}/items``)
or, for the v1 envelope, the method, path and query type (``POST /public datasetlinkitems``).
Every API request counts once when it arrives, whatever its outcome (faulted, 401, 404, ...);
control routes never count.
"""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        """Counters by route key, sorted, plus ``total``."""
        with self._lock:
            out = dict(sorted(self._counts.items()))
        out["total"] = sum(out.values())
        return out

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
