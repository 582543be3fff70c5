"""Server-side SVG charts: well-formed, labels escaped, links kept."""

from decimal import Decimal
from xml.etree import ElementTree

from dashboard import charts


def test_bar_chart_is_valid_svg_with_escaped_labels_and_links():
    svg = charts.bar_chart(
        [("M1 <b>", Decimal("10.00"), "/admin/lending/loan/?dpd_bucket__exact=M1&x=1"), ("M2", 0, None)], label="a&b"
    )
    root = ElementTree.fromstring(svg)
    links = [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert links == ["/admin/lending/loan/?dpd_bucket__exact=M1&x=1"]
    assert "<b>" not in svg


def test_line_chart_and_heat_map_parse_with_empty_and_gappy_series():
    ElementTree.fromstring(charts.line_chart([], [], label="empty"))
    ElementTree.fromstring(charts.line_chart(["0", "1", "2"], [("2026-01", [Decimal("0.1"), None, None])], label="x"))
    ElementTree.fromstring(charts.heat_map(["M0"], ["M0", "M1"], [[Decimal("1"), Decimal("0")]], label="rolls"))


def test_an_all_zero_chart_draws_only_its_baseline():
    svg = charts.bar_chart([("M0", Decimal("0"), None)], label="empty book", fmt="{:,.0f}".format)
    ElementTree.fromstring(svg)
    assert svg.count("<line") == 1
    ElementTree.fromstring(charts.line_chart(["0", "1"], [("x", [Decimal("0"), Decimal("0")])], label="zero"))
