"""The root log handler and level that ``-v`` sets (``cli/main.py``), in a module of its own
so that a command which never logs (``validate``) does not import ``logging`` at all."""

from __future__ import annotations

import logging

from reconciler.printable import printable


class OneLineFormatter(logging.Formatter):
    """Each log record on one line, shown ``printable``: messages carry live names (a folder
    named with a newline must not forge a log line in CI output). A traceback (``-vv``) is
    appended as it is."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


def set_log_level(verbosity: int) -> None:
    """The level for ``-v`` counted ``verbosity`` times, and the one root handler."""
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger()
    if not root.handlers:  # once per process, as ``logging.basicConfig``
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    # -v: our one line per request; httpx's own request lines only with -vv
    logging.getLogger("httpx").setLevel(logging.WARNING if verbosity < 2 else logging.NOTSET)
