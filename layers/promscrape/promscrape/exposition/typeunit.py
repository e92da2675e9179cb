"""`enable_type_and_unit_labels`: a series' family type and unit as `__type__` and `__unit__` labels.

As Prometheus 3's parsers add them (schema.Metadata.AddToLabels): `__type__` when the family's type
is known (not unknown/untyped), `__unit__` when it has a unit; a scraped label of the same name is
dropped when the metadata gives one (IgnoreOverriddenMetadataLabelScratchBuilder). A series takes
its family's metadata only when it belongs to the family by name, as isSeriesPartOfFamily decides
(`_total` for counters, `_bucket`/`_sum`/`_count` for histograms, ...). The family is looked up
by name among the exposition's metadata, where Prometheus's parser uses the last TYPE it read: the
two agree wherever a family's samples follow its metadata, as every exposition library writes them.
"""

from dataclasses import replace

from .model import Exposition, Labels, Metadata

TYPE_LABEL = "__type__"
UNIT_LABEL = "__unit__"

_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("_sum", "_count"),
    "info": ("_info",),
}
_CANDIDATE_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_gsum", "_gcount", "_info")
_NO_TYPE = frozenset({"", "unknown", "untyped"})


def belongs(name: str, family: str, kind: str) -> bool:
    """Prometheus's isSeriesPartOfFamily: whether metric `name` is a series of `family` of type `kind`."""
    if not name.startswith(family):
        return False
    if kind in ("counter", "info"):
        family = family.removesuffix(_SUFFIXES[kind][0])
    for suffix in _SUFFIXES.get(kind, ()):
        if name.endswith(suffix):
            return name.removesuffix(suffix) == family
    return name == family


def family_metadata(name: str, metadata: dict[str, Metadata]) -> Metadata | None:
    """The metadata of the family metric `name` belongs to, if any."""
    candidates = [name, *(name.removesuffix(s) for s in _CANDIDATE_SUFFIXES if name.endswith(s))]
    for family in candidates:
        found = metadata.get(family)
        if found is not None and belongs(name, family, found.type):
            return found
    return None


def with_labels(name: str, labels: Labels, metadata: Metadata | None) -> Labels:
    """The scraped labels with `__type__` and `__unit__` from the family's metadata."""
    if metadata is None:
        return labels
    kind = "" if metadata.type in _NO_TYPE else metadata.type
    unit = metadata.unit or ""
    if not kind and not unit:
        return labels
    overridden = {label for label, value in ((TYPE_LABEL, kind), (UNIT_LABEL, unit)) if value}
    kept = tuple(pair for pair in labels if pair[0] not in overridden)
    added = ((TYPE_LABEL, kind),) if kind else ()
    return kept + added + (((UNIT_LABEL, unit),) if unit else ())


def add_type_and_unit_labels(exposition: Exposition) -> Exposition:
    """The exposition with every series' labels completed by its family's type and unit."""
    metadata = exposition.metadata
    series = exposition.series
    keys = dict.fromkeys([*exposition.keys, *(sample.key for sample in exposition.histograms)])
    labeled = {}
    for key in keys:
        name, labels = series[key]
        labeled[key] = (name, with_labels(name, labels, family_metadata(name, metadata)))
    return replace(exposition, series=labeled)
