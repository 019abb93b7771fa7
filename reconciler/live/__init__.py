"""Reading the live state of a declared scope through the Encord client.

live = await read_live(client, Scope.from_desired(desired))
"""

from reconciler.live.progress import ReadListener, ReadProgress
from reconciler.live.reader import read_live
from reconciler.live.scope import Scope

__all__ = ["ReadListener", "ReadProgress", "Scope", "read_live"]
