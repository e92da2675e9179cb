"""Shared test setup: where the repository and the conformance vectors are."""

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
