"""The decision-region and confidence-landscape figures as Chromium draws them, at a wide screen's 1400 px, a notebook
column's 900 px and half a column's 450 px (notebook 02's live landscapes sit two to a row): no title, subtitle, panel
title, legend (with the landscape's note), axis title or tick label overlaps another, and none leaves the page.

Needs Debian's chromium (/usr/bin/chromium) and the playwright package (never `playwright install`). Without them
the test skips, unless PSVIZ_REQUIRE_BROWSER=1 makes it fail.
"""


import plotly.io as pio
import pytest

from browser_driver import launched, require_browser
from psviz.viz import confidence_landscape, decision_boundaries

pytestmark = pytest.mark.browser

# the text boxes plotly draws, by kind; a kind's boxes are measured one by one
BOXES = """() => {
  const found = [];
  const add = (selector, name) => document.querySelectorAll(selector).forEach((element, i) => {
    const r = element.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) found.push([name + i, [r.left, r.top, r.right, r.bottom]]);
  });
  add('.gtitle', 'title'); add('.gtitle-subtitle', 'subtitle'); add('.annotation-text-g', 'panel title ');
  add('.legend .bg', 'legend'); add('.xtitle', 'x title'); add('.ytitle', 'y title');
  add('.xaxislayer-above', 'x ticks ');
  return found;
}"""


def _overlapping(boxes) -> list[tuple[str, str]]:
    def overlap(a, b):
        return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1
    return [(n1, n2) for i, (n1, b1) in enumerate(boxes) for n2, b2 in boxes[i + 1:] if overlap(b1, b2)]


@pytest.fixture(scope="module")
def chromium():
    require_browser()
    with launched() as browser:
        yield browser


def _single(fig):
    fig.update_layout(height=520)  # as psviz.widgets.LiveLandscape draws its one panel
    return fig


CASES = {  # name -> (make figure from (toy_runs, toy3_runs), widths)
    "landscape, sphere": (lambda runs2, runs3: confidence_landscape(runs3), (1400, 900)),
    "live landscape, sphere": (lambda runs2, runs3: _single(confidence_landscape({"with PS": runs3["with PS"]})),
                               (700, 450)),
    "live landscape, circle": (lambda runs2, runs3: _single(confidence_landscape({"with PS": runs2["with PS"]})),
                               (450,)),
    "landscape, circle": (lambda runs2, runs3: confidence_landscape(runs2), (900,)),
    "landscape, input plane": (lambda runs2, runs3: confidence_landscape(runs2, space="input"), (1400, 900)),
    "regions, sphere": (lambda runs2, runs3: decision_boundaries(runs3), (900,)),
    "regions, circle": (lambda runs2, runs3: decision_boundaries(runs2), (900,)),
    "regions, input plane": (lambda runs2, runs3: decision_boundaries(runs2, space="input"), (900,)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_titles_legend_and_axes_do_not_overlap_at_any_width(case, chromium, toy_runs, toy3_runs, tmp_path):
    make, widths = CASES[case]
    page_file = tmp_path / "figure.html"
    page_file.write_text(pio.to_html(make(toy_runs, toy3_runs), include_plotlyjs=True, full_html=True))
    for width in widths:
        page = chromium.new_page(viewport={"width": width, "height": 900})
        try:
            page.goto(page_file.as_uri())
            page.wait_for_selector(".main-svg")
            page.wait_for_timeout(300)
            boxes = page.evaluate(BOXES)
        finally:
            page.close()
        names = [name for name, _ in boxes]
        assert {"title0", "subtitle0", "panel title 0", "legend0"} <= set(names), names
        assert not _overlapping(boxes), f"{case} at {width} px: {_overlapping(boxes)}"
        outside = [name for name, box in boxes if box[0] < -1 or box[2] > width + 1]
        assert not outside, f"{case} at {width} px: {outside} leave the page"
