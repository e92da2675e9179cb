"""Find the real server binaries the integration tests start.

CI installs them (.ci/run), so a missing binary there is a failure; on a developer's machine the
test is skipped with the command that installs it.
"""

import os
import shutil

import pytest

# Debian package of each binary the tests use.
PACKAGES = {
    "prometheus": "prometheus",
    "prometheus-node-exporter": "prometheus-node-exporter",
    "prometheus-pushgateway": "prometheus-pushgateway",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
    "victoria-metrics": "victoria-metrics",
    "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
    "aarch64-linux-gnu-readelf": "binutils-aarch64-linux-gnu",
}


def require_binary(name: str) -> str:
    """The binary's path; fail in CI (CI=true), skip elsewhere, when it is not installed."""
    path = shutil.which(name)
    if path is not None:
        return path
    package = PACKAGES.get(name, name)
    message = f"{name} is not installed: install it: apt-get install {package}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
