"""Everything tests share, in one package (tests/ is on the path, so ``import helpers``):

- ``servers``: run the CLI in a subprocess, serve a sandbox over a loopback socket, write a
  configuration directory (the end-to-end tests). Its names are re-exported here.
- ``desired``: ``DesiredState`` parts built in code, with sources.
- ``embedded``: an embedded sandbox and plan-then-apply through the real client in-process.
- ``plans``: plans built in code (sealed from changes, hostile names, large ones).
- ``strategies``: random organisations and configurations for the property tests.
- ``provision``: such an organisation made real in an embedded sandbox, and read back whole.
- ``browser``: headless Chromium for the HTML report tests.
"""

from helpers.servers import (
    CAPTURES,
    SHARED,
    SandboxServer,
    flags,
    run_cli,
    running_sandbox,
    sdk,
    write_config,
)

__all__ = [
    "CAPTURES",
    "SHARED",
    "SandboxServer",
    "flags",
    "run_cli",
    "running_sandbox",
    "sdk",
    "write_config",
]
