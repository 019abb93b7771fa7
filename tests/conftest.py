"""Session checks shared by every test."""

from __future__ import annotations

import os
import signal

import pytest
from helpers import CAPTURES, SHARED
from hypothesis import settings

# CI runs the property tests on a fixed seed (.ci/run sets HYPOTHESIS_PROFILE=ci), so that
# main is judged on the same examples every run; a search on a random seed (the default, on
# every other run) is how new counterexamples are found, and they are fixed, not re-rolled.
settings.register_profile("ci", derandomize=True)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture
def anyio_backend() -> str:
    """The event loop of ``@pytest.mark.anyio`` tests: asyncio, what the CLI runs on."""
    return "asyncio"


def pytest_sessionstart(session: pytest.Session) -> None:
    # The Ctrl-C tests send SIGINT to the commands they start. A shell without job control
    # starts a background job (`pytest ... &` in a script) with SIGINT ignored, and a child
    # inherits that: the command never sees the signal and the tests fail for the harness's
    # reason. Python's own handler here is reset to the default in every child at exec.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # The wire-conformance and signing tests compare against the recorded SDK traffic in the
    # API contract beside the project. Without it they cannot run, and skipping them would
    # let a protocol regression pass, so stop with one clear line instead.
    if not CAPTURES.is_file():
        pytest.exit(
            f"the Encord API contract is missing: {CAPTURES} not found; run from a checkout "
            f"with ../shared beside it or set RECONCILER_SHARED (looked in {SHARED})",
            returncode=3,
        )
