"""A real Prometheus as a remote-write receiver on loopback, for `--demo` and the integration tests.

Started with `--web.enable-remote-write-receiver`, a temporary storage directory and an empty
scrape configuration, so everything it holds came through remote write.
"""

import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 30.0


class PrometheusError(RuntimeError):
    """Prometheus could not be started, or its HTTP API answered with an error."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_prometheus() -> str | None:
    return shutil.which("prometheus")


class LocalPrometheus:
    """One Prometheus process with its own storage; `stop()` removes both."""

    def __init__(
        self, binary: str | None = None, host: str = "127.0.0.1", features: tuple[str, ...] = ()
    ) -> None:
        found = binary or find_prometheus()
        if found is None:
            raise PrometheusError("prometheus is not installed: apt-get install prometheus")
        self.binary = found
        self.host = host
        self.features = features
        self.port = 0
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def write_url(self) -> str:
        """The remote-write endpoint."""
        return f"{self.url}/api/v1/write"

    def graph_url(self, expr: str) -> str:
        """Where a person can graph `expr` in Prometheus's web UI."""
        query = urllib.parse.urlencode({"g0.expr": expr, "g0.tab": "0", "g0.range_input": "15m"})
        return f"{self.url}/graph?{query}"

    def start(self, attempts: int = 3) -> "LocalPrometheus":
        """Start and wait until ready; retry on another port if the chosen one was taken meanwhile."""
        self._dir = Path(tempfile.mkdtemp(prefix="promscrape-prometheus-"))
        config = self._dir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\n")
        log_path = self._dir / "prometheus.log"
        for _ in range(attempts):
            self.port = free_port(self.host)
            with log_path.open("wb") as log:
                self._process = subprocess.Popen(
                    [
                        self.binary,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={self._dir / 'data'}",
                        f"--web.listen-address={self.host}:{self.port}",
                        "--web.enable-remote-write-receiver",
                        "--log.level=warn",
                        *([f"--enable-feature={','.join(self.features)}"] if self.features else []),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            if self._wait_ready():
                return self
            self._terminate()
        log_tail = log_path.read_text(errors="replace")[-2000:]
        self.stop()
        raise PrometheusError(f"prometheus did not become ready: {log_tail}")

    def reload(self, config: str) -> None:
        """Replace the running Prometheus's configuration (written, then SIGHUP, as an operator does)."""
        if self._dir is None or self._process is None:
            raise PrometheusError("prometheus is not running")
        (self._dir / "prometheus.yml").write_text(config)
        self._process.send_signal(signal.SIGHUP)

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        return False

    def _terminate(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def stop(self) -> None:
        self._terminate()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "LocalPrometheus":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def api(self, path: str, params: dict[str, str] | list[tuple[str, str]]) -> Any:
        """GET /api/v1/<path>; the `data` of a successful answer."""
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            raise PrometheusError(f"{path}: HTTP {error.code}: {error.read()[:500]!r}") from error
        if answer.get("status") != "success":
            raise PrometheusError(f"{path}: {answer.get('error')}")
        return answer["data"]

    def query(self, expr: str, at_s: float | None = None) -> list[dict[str, Any]]:
        """An instant query's vector result: [{"metric": {...}, "value": [ts, "v"]}, ...]."""
        params = {"query": expr}
        if at_s is not None:
            params["time"] = f"{at_s:.3f}"
        data = self.api("query", params)
        if data["resultType"] != "vector":
            raise PrometheusError(f"query {expr!r} gave a {data['resultType']}, not a vector")
        return list(data["result"])

    def count_samples(self, selector: str, window_s: int) -> int:
        """Samples stored in the last `window_s` seconds for the series `selector` matches."""
        data = self.api("query", {"query": f"{selector}[{window_s}s]"})
        if data["resultType"] != "matrix":
            raise PrometheusError(f"{selector}[{window_s}s] gave a {data['resultType']}, not a matrix")
        return sum(len(series.get("values", [])) for series in data["result"])
