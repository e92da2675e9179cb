"""The arm64 build of the C module (Makefile `native-arm64`): a module Lambda's python3.12 can load.

It cannot be loaded here (x86_64, no arm64 Python), so its ELF is checked instead: AArch64, the
module's init exported, nothing imported but CPython's API and glibc symbols Amazon Linux 2023
(glibc 2.34) has. Its behaviour is the same source's, tested natively by test_native.py.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest
from binaries import require_binary

MODULE = "_native.cpython-312-aarch64-linux-gnu.so"
LAMBDA_GLIBC = (2, 34)
LIBC_IMPORTS = {"memcmp", "memcpy", "memmove", "memset", "strlen", "__cxa_finalize"}
WEAK_TOOLCHAIN = {"__gmon_start__", "_ITM_deregisterTMCloneTable", "_ITM_registerTMCloneTable"}


def check_lambda_loadable(path: Path) -> None:
    readelf = require_binary("aarch64-linux-gnu-readelf")
    header = subprocess.run([readelf, "-h", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Class:\s+ELF64", header) and re.search(r"Machine:\s+AArch64", header), header
    symbols = subprocess.run(
        [readelf, "--dyn-syms", "-W", str(path)], check=True, capture_output=True, text=True
    ).stdout
    rows = [line.split() for line in symbols.splitlines() if re.match(r"\s*\d+:", line)]
    defined = {row[7] for row in rows if len(row) >= 8 and row[6] != "UND"}
    imported = {row[7].split("@")[0] for row in rows if len(row) >= 8 and row[6] == "UND"}
    assert "PyInit__native" in defined
    foreign = {name for name in imported if not re.match(r"_?Py", name)} - LIBC_IMPORTS - WEAK_TOOLCHAIN
    assert not foreign, f"imports outside CPython and the allowed glibc symbols: {sorted(foreign)}"
    versions = subprocess.run([readelf, "-V", str(path)], check=True, capture_output=True, text=True).stdout
    needed = {tuple(map(int, found.split("."))) for found in re.findall(r"GLIBC_(\d+\.\d+)", versions)}
    assert needed and max(needed) <= LAMBDA_GLIBC, sorted(needed)


def test_make_cross_compiles_a_lambda_loadable_module(repo_root: Path, tmp_path: Path) -> None:
    require_binary("aarch64-linux-gnu-gcc")
    output = tmp_path / MODULE
    subprocess.run(
        ["make", "-s", "-C", str(repo_root), "native-arm64", f"NATIVE_ARM64={output}"],
        check=True,
        capture_output=True,
    )
    check_lambda_loadable(output)


def test_the_built_layer_carries_the_arm64_module(repo_root: Path) -> None:
    """After `make build` (CI runs it before the tests) the layer holds the module next to the package."""
    layer = repo_root / ".aws-sam" / "build" / "PromscrapeLayer" / "python" / "promscrape"
    if not layer.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no built layer: .ci/run runs `make build` before `make test`")
        pytest.skip("no built layer: run `make build`")
    check_lambda_loadable(layer / MODULE)
