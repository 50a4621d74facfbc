"""psviz.base.names: the one place a metric key gets the name a reader sees."""

import pytest

from psviz.base.names import RUN_METRICS, is_retrieval_metric, metric_name
from psviz.viz.curves import metric_label


@pytest.mark.parametrize("key, name", [("map@r", "MAP@R"), ("r_precision", "R-Precision"), ("recall@1", "Recall@1"),
                                       ("recall@16", "Recall@16"), ("nmi", "NMI"), ("loss", "loss")])
def test_a_metric_key_has_one_readers_name(key, name):
    assert metric_name(key) == name


def test_the_axes_and_tables_use_that_name_with_the_split_and_unit():
    assert metric_label("unseen/map@r") == "unseen MAP@R (%)" and metric_label("loss") == "loss"
    assert all(is_retrieval_metric(key) for key in RUN_METRICS) and not is_retrieval_metric("nmi")
    assert len({metric_name(key) for key in RUN_METRICS}) == len(RUN_METRICS)
