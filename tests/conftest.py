"""Shared test setup: where the repository and the conformance vectors are."""

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["aws_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = (REPO_ROOT / ".." / "shared" / "conformance").resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The public test vectors; their absence is a failure, never a skip."""
    if not CONFORMANCE.is_dir():
        pytest.fail(f"conformance vectors not found at {CONFORMANCE}: clone the project beside shared/")
    return CONFORMANCE


@pytest.fixture(autouse=True)
def _lambda_logs_reach_capsys(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point Powertools' JSON log handlers (plain stdout StreamHandlers) at the test's capsys.

    A Powertools Logger binds sys.stdout when it is first built, which may be during an earlier
    test; without this, a test reading log lines through capsys would depend on test order.
    """
    if "capsys" in request.fixturenames:
        request.getfixturevalue("capsys")
        loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        for handler in (h for logger in loggers for h in getattr(logger, "handlers", [])):
            if type(handler) is logging.StreamHandler and handler.stream not in (sys.stderr, sys.__stderr__):
                monkeypatch.setattr(handler, "stream", sys.stdout)
    yield


@pytest.fixture(autouse=True)
def _isolated_process_state() -> Iterator[None]:
    """Give every test the environment and loggers the previous one started with.

    The local runner configures Powertools through os.environ, and a handler's cold start
    configures loggers (levels, handlers bound to the test's stdout, Powertools' marks on the
    logger); in the test process none of that may leak into the tests that follow.
    """
    environ = dict(os.environ)
    loggers = {
        name: (logger.level, list(logger.handlers), logger.propagate, set(vars(logger)))
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    os.environ.clear()
    os.environ.update(environ)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue
        level, handlers, propagate, attributes = loggers.get(name, (logging.NOTSET, [], True, None))
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        for mark in [
            a for a in vars(logger) if a.startswith("powertools_") or a in ("init", "logger_handler")
        ]:
            if attributes is None or mark not in attributes:
                delattr(logger, mark)
