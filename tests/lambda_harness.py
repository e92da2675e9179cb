"""Calling a function's handler as Lambda would: a cold-start import by path and a context."""

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class FakeLambdaContext:
    """What Powertools and the handlers read of a LambdaContext."""

    function_name: str
    memory_limit_in_mb: int
    remaining_ms: int
    aws_request_id: str = "5a1f2c3d-0000-4000-8000-00000000beef"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def load_app(app: Path, module_name: str) -> ModuleType:
    """Import a handler module afresh (a cold start) inside the test's moto and environment."""
    spec = importlib.util.spec_from_file_location(module_name, app)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
