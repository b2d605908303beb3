"""Charts are SVG drawn on the server: every text escaped, gaps where a value is missing."""

from onewindow.analytics import charts


def test_labels_and_names_are_escaped():
    svg = charts.bars(
        "件数", ["<script>", "2026-02"], [charts.Series("申请&", [3, 0], "an-series-1")]
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "申请&amp;" in svg
    assert svg.startswith("<svg") and svg.count("<rect") == 2


def test_a_missing_rate_leaves_a_gap():
    svg = charts.lines(
        "比率",
        ["1月", "2月", "3月"],
        [charts.Series("按时", [0.5, None, 1.0], "an-series-2")],
        percent=True,
    )
    assert svg.count("<circle") == 2 and "100%" in svg and "50.0%" in svg
