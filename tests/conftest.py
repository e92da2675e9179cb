"""Shared test setup: where the repository and the conformance vectors are."""

import logging
import os
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
