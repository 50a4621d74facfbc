"""Comparisons as fixed-width text and one-line verdicts, for a terminal or a notebook.

They read the rows of `psviz.analysis.comparison` (percent) and the mechanism measures of `psviz.train.mechanism`;
what they print is what `psviz demo` prints, so a change here changes the demo's output.
"""

from __future__ import annotations

import math

from ..base.names import ARMS, BASELINE, PERCENT_MEASURES, WITH_PS, metric_name
from ..base.percent import percent
from ..train.mechanism import MEASURE_NAMES


def format_table(rows: list[dict], title: str = "unseen classes (%)") -> str:
    """`comparison_rows` as fixed-width text under ``title``."""
    lines = [f"{title:<20}{BASELINE:>10}{WITH_PS:>10}{'diff':>8}"]
    lines += [f"{metric_name(r['metric']):<20}{r[BASELINE]:>10.2f}{r[WITH_PS]:>10.2f}{r['difference']:>+8.2f}"
              for r in rows]
    return "\n".join(lines)


def measure_label(key: str, share_mark: str = ", %") -> str:
    """A mechanism measure's name, with ``share_mark`` where it is a share shown in percent."""
    return MEASURE_NAMES[key] + (share_mark if key in PERCENT_MEASURES else "")


def measure_shown(key: str, value: float) -> float:
    """A mechanism measure in the unit it is shown in: shares in percent, the rest as measured."""
    return percent(value) if key in PERCENT_MEASURES else value


def format_measures(measures: dict) -> str:
    """The mechanism measures of both arms, one line each (shares in percent)."""
    lines = [f"{'mechanism measures':<64}" + "".join(f"{arm:>10}" for arm, _ in ARMS)]
    for key in MEASURE_NAMES:
        if all(key in measures[arm] for arm in measures):
            lines.append(f"{measure_label(key, ' (%)'):<64}"
                         + "".join(f"{measure_shown(key, measures[arm][key]):>10.2f}" for arm in measures))
    return "\n".join(lines)


def summary_line(rows: list[dict], where: str = "here", note: str = "one seed") -> str:
    """One line saying which way PS went on Recall@1 and MAP@R, with the size of each difference."""
    by = {r["metric"]: r for r in rows}
    r1, mapr = by["recall@1"]["difference"], by["map@r"]["difference"]
    verdict = "helped" if r1 > 0 and mapr > 0 else "hurt" if r1 < 0 and mapr < 0 else "was mixed"
    return (f"Proxy Synthesis {verdict} {where}: Recall@1 {r1:+.2f} and MAP@R {mapr:+.2f} points on the unseen "
            f"classes ({note}).")


def format_interval_table(rows: list[dict], title: str) -> str:
    """`paired_rows` as fixed-width text: the means, and the difference with its 95% interval."""
    lines = [f"{title:<14}{BASELINE:>10}{WITH_PS:>10}{'diff [95% CI]':>26}{'PS ahead':>10}"]
    for r in rows:
        interval = (f"{r['difference']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]" if r["n"] > 1
                    else f"{r['difference']:+.2f}")
        lines.append(f"{metric_name(r['metric']):<14}{r[BASELINE]:>10.2f}{r[WITH_PS]:>10.2f}{interval:>26}"
                     f"{str(r['ps_ahead']) + '/' + str(r['n']):>10}")
    return "\n".join(lines)


def interval_line(rows: list[dict], where: str) -> str:
    """The verdict on unseen MAP@R (the primary metric) read from its interval: higher or lower only where the 95%
    interval leaves out 0."""
    r = next(row for row in rows if row["metric"] == "map@r")
    interval = f"{r['difference']:+.2f} points [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"
    if r["n"] < 2 or math.isnan(r["ci_low"]):
        return f"{where}: PS changed unseen MAP@R by {r['difference']:+.2f} points ({r['n']} seed: no interval)."
    if r["ci_high"] < 0:
        verdict = "PS lowered unseen MAP@R"
    elif r["ci_low"] > 0:
        verdict = "PS raised unseen MAP@R"
    else:
        verdict = "no difference this interval can detect on unseen MAP@R"
    return f"{where}: {verdict}: {interval} over {r['n']} seeds (95% paired t interval, unadjusted)."


__all__ = ["format_interval_table", "format_measures", "format_table", "interval_line", "measure_label",
           "measure_shown", "summary_line"]
