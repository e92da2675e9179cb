"""Name validity and escaping against prometheus/common model's own tables (metric_test.go,
labels_test.go), the rules of its code where the tables are silent, and prometheus_client's
independent port of EscapeName."""

from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from name_escaping import ESCAPING_SCHEMES, escape_name
from prometheus_client.openmetrics.exposition import escape_metric_name
from promscrape.names import VALIDATION_SCHEMES, is_valid_label_name, is_valid_metric_name


def go(raw: bytes) -> str:
    """A Go string literal's bytes as the parsers hand names over (invalid bytes as surrogates)."""
    return raw.decode("utf-8", "surrogateescape")


# (name, legacy valid, utf8 valid)
METRIC_NAMES = [
    # TestValidationScheme_IsMetricNameValid, in its order.
    ("Avalid_23name", True, True),
    ("_Avalid_23name", True, True),
    ("1valid_23name", False, True),
    ("avalid_23name", True, True),
    ("Ava:lid_23name", True, True),
    ("a lid_23name", False, True),
    (":leading_colon", True, True),
    ("colon:in:the:middle", True, True),
    ("", False, False),
    (go(b"a\xc5z"), False, False),
    # The code's rules beyond the table.
    ("my.metric", False, True),
    ("Heizölrückstoßabdämpfung", False, True),
    ("a\u0661", False, True),  # a non-ASCII digit is not [0-9]
    ("a\x00b", False, True),  # NUL is valid UTF-8
    ("\ufffd", False, True),  # a real U+FFFD is valid; an invalid byte is not
    (go(b"\xed\xa0\x80"), False, False),  # an encoded surrogate is not UTF-8
    (go(b"ok\xff"), False, False),
    ("😱", False, True),
]

LABEL_NAMES = [
    # TestLabelNameIsValid, in its order.
    ("Avalid_23name", True, True),
    ("_Avalid_23name", True, True),
    ("1valid_23name", False, True),
    ("avalid_23name", True, True),
    ("Ava:lid_23name", False, True),
    ("a lid_23name", False, True),
    (":leading_colon", False, True),
    ("colon:in:the:middle", False, True),
    (go(b"a\xc5z"), False, False),
    # The code's rules beyond the table.
    ("", False, False),
    ("__name__", True, True),
    ("label.name", False, True),
    ("strange©™\n'quoted' \"name\"", False, True),
    (go(b"\xff"), False, False),
]


@pytest.mark.parametrize(("name", "legacy", "utf8"), METRIC_NAMES, ids=repr)
def test_metric_name_validity(name: str, legacy: bool, utf8: bool) -> None:
    assert (is_valid_metric_name(name, "legacy"), is_valid_metric_name(name, "utf8")) == (legacy, utf8)


@pytest.mark.parametrize(("name", "legacy", "utf8"), LABEL_NAMES, ids=repr)
def test_label_name_validity(name: str, legacy: bool, utf8: bool) -> None:
    assert (is_valid_label_name(name, "legacy"), is_valid_label_name(name, "utf8")) == (legacy, utf8)


@pytest.mark.parametrize("check", [is_valid_metric_name, is_valid_label_name])
def test_unknown_validation_scheme(check: Callable[[str, str], bool]) -> None:
    with pytest.raises(ValueError, match=r'^unrecognized ValidationScheme: "strict"$'):
        check("a", "strict")


def test_scheme_names() -> None:
    assert VALIDATION_SCHEMES == ("legacy", "utf8")
    assert ESCAPING_SCHEMES == ("allow-utf-8", "underscores", "dots", "values")


# (input, underscores, dots, values)
ESCAPES = [
    # TestEscapeName, in its order.
    ("", "", "", ""),
    ("no:escaping_required", "no:escaping_required", "no:escaping__required", "no:escaping_required"),
    (
        "mysystem.prod.west.cpu.load",
        "mysystem_prod_west_cpu_load",
        "mysystem_dot_prod_dot_west_dot_cpu_dot_load",
        "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load",
    ),
    (
        "mysystem.prod.west.cpu.load_total",
        "mysystem_prod_west_cpu_load_total",
        "mysystem_dot_prod_dot_west_dot_cpu_dot_load__total",
        "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total",
    ),
    ("http.status:sum", "http_status:sum", "http_dot_status:sum", "U__http_2e_status:sum"),
    ("label with 😱", "label_with__", "label__with____", "U__label_20_with_20__1f631_"),
    ("花火", "__", "____", "U___82b1__706b_"),
    ("label with \u0100", "label_with__", "label__with____", "U__label_20_with_20__100_"),
    # TestEscapeMetricFamily's names (values and dots scenarios; the other columns by the same rules).
    ("some.label", "some_label", "some_dot_label", "U__some_2e_label"),
    ("my.metric", "my_metric", "my_dot_metric", "U__my_2e_metric"),
    ("some?label", "some_label", "some__label", "U__some_3f_label"),
    (
        "unicode.and.dots.花火",
        "unicode_and_dots___",
        "unicode_dot_and_dot_dots_dot_____",
        "U__unicode_2e_and_2e_dots_2e__82b1__706b_",
    ),
    # The code's rules beyond the tables.
    ("1abc", "_abc", "__abc", "U___31_abc"),  # a leading digit is invalid, a later one is not
    ("a1", "a1", "a1", "a1"),
    ("label:with:colons", "label:with:colons", "label:with:colons", "label:with:colons"),
    ("_", "_", "__", "_"),
    ("a-b", "a_b", "a__b", "U__a_2d_b"),
    ("\x00", "_", "__", "U___0_"),
    ("a\n", "a_", "a__", "U__a_a_"),
    ("\U0010ffff", "_", "__", "U___10ffff_"),
    # An invalid byte is one utf8.RuneError for Go's range loop: `_fffd_` under values.
    (go(b"a\xffb"), "a_b", "a__b", "U__a_fffd_b"),
    (go(b"\xe2\x82"), "__", "____", "U___fffd__fffd_"),
    ("a\ufffdb", "a_b", "a__b", "U__a_fffd_b"),
]


@pytest.mark.parametrize(("name", "underscores", "dots", "values"), ESCAPES, ids=repr)
def test_escape_name(name: str, underscores: str, dots: str, values: str) -> None:
    assert escape_name(name, "underscores") == underscores
    assert escape_name(name, "dots") == dots
    assert escape_name(name, "values") == values
    assert escape_name(name, "allow-utf-8") == name


def test_unknown_escaping_scheme() -> None:
    with pytest.raises(ValueError, match=r"^unknown format scheme dotted$"):
        escape_name("a.b", "dotted")


NAMES = st.text(
    st.one_of(
        st.sampled_from("_.:-0123456789aZ "),
        st.characters(codec="utf-8", exclude_characters="\x00"),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(NAMES)
def test_escaping_agrees_with_prometheus_client(name: str) -> None:
    """prometheus_client ports EscapeName for metric names. It differs from Go in two places this
    keeps out: `_FFFD_` for surrogates (valid text, all this draws, has none), and its legacy check
    `^...$` with re.match, which lets a final line feed through (the table has `a\n`)."""
    assume(not name.endswith("\n"))
    for scheme in ("underscores", "dots", "values"):
        assert escape_name(name, scheme) == escape_metric_name(name, scheme)


@settings(max_examples=400, deadline=None)
@given(NAMES)
def test_escaped_names_are_legacy_valid(name: str) -> None:
    for scheme in ("underscores", "dots", "values"):
        escaped = escape_name(name, scheme)
        assert is_valid_metric_name(escaped, "legacy") == bool(name)
        if is_valid_metric_name(name, "legacy") and scheme != "dots":
            assert escaped == name
