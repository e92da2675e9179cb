"""Reproducible Prometheus text payloads shaped like real exporters, for the pipeline benchmark.

Families of counters, gauges and classic histograms, each with `# HELP` and `# TYPE`, every series
with 5 labels (a histogram's buckets have `le` as the 5th, its `_sum` and `_count` only the 4
others, as client libraries write them), lines of about 150 bytes, values a mix of integers, floats
and zeros (counters at rest) like a service's /metrics.
"""

import random

SERIES_PER_FAMILY = 48
_BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
_SERVICES = ("checkout-api", "payments-gateway", "inventory-service", "search-frontend", "auth-proxy")
_REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
_METHODS = ("GET", "POST", "PUT", "DELETE")
_STATUS = ("200", "201", "204", "400", "404", "500", "503")


def _pod(rng: random.Random, service: str) -> str:
    suffix = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=5))
    return f"{service}-{rng.randrange(16**9):09x}-{suffix}"


def _value(rng: random.Random, kind: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return "0"
    if kind == "gauge":
        return repr(round(rng.uniform(-1e3, 1e6), 3))
    return str(rng.randrange(1, 10**9))


def generate(series: int, seed: int = 1, per_family: int = SERIES_PER_FAMILY) -> bytes:
    """A body with exactly `series` samples (5 labels each), HELP and TYPE for every family.

    `per_family` small (2-4) gives the shape of node_exporter: many families of a few series.
    """
    rng = random.Random(seed)
    lines: list[str] = []
    written = 0
    family = 0
    while written < series:
        kind = ("counter", "gauge", "histogram")[family % 3]
        name = f"app_{('requests', 'latency', 'queue_depth', 'bytes')[family % 4]}_{family}"
        lines.append(f"# HELP {name} Synthetic {kind} family number {family} for the pipeline benchmark.")
        lines.append(f"# TYPE {name} {kind}")
        count = min(per_family, series - written)
        service = _SERVICES[family % len(_SERVICES)]
        if kind == "histogram":
            per_set = len(_BUCKETS) + 2
            for start in range(0, count, per_set):
                pod = _pod(rng, service)
                region, method = rng.choice(_REGIONS), rng.choice(_METHODS)
                common = f'service="{service}",region="{region}",method="{method}",pod="{pod}"'
                cumulative = 0
                lines_left = min(per_set, count - start)
                for bucket in _BUCKETS[:lines_left]:
                    cumulative += rng.randrange(0, 1000)
                    lines.append(f'{name}_bucket{{{common},le="{bucket}"}} {cumulative}')
                if lines_left > len(_BUCKETS):
                    lines.append(f"{name}_sum{{{common}}} {round(cumulative * rng.uniform(0.01, 2), 6)!r}")
                if lines_left > len(_BUCKETS) + 1:
                    lines.append(f"{name}_count{{{common}}} {cumulative}")
        else:
            sample_name = f"{name}_total" if kind == "counter" else name
            for _ in range(count):
                labels = (
                    f'service="{service}",region="{rng.choice(_REGIONS)}",method="{rng.choice(_METHODS)}",'
                    f'status="{rng.choice(_STATUS)}",pod="{_pod(rng, service)}"'
                )
                lines.append(f"{sample_name}{{{labels}}} {_value(rng, kind)}")
        written += count
        family += 1
    lines.append("")
    return "\n".join(lines).encode()
