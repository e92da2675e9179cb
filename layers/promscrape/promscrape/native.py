"""The C hot path (native/native.c, module `promscrape._native`), or None where it is not built.

Without it every result stays the same (the Python reference paths run instead) but a target's
first scrape costs about twice the CPU; the scraper handler logs a warning at cold start. `make
venv` builds it for the machine, `make build` cross-compiles it for the arm64 layer.
"""

from types import ModuleType

ACCELERATOR: ModuleType | None
try:
    from promscrape import _native as ACCELERATOR
except ImportError:
    ACCELERATOR = None
