from __future__ import annotations

import math

import pytest

from asyncstt.analysis.statistics import Quantile, Statistics, describe


def test_a_distribution_has_its_extremes_mean_population_deviation_and_interpolated_quantiles() -> (
    None
):
    stats = describe([4.0, 1.0, 3.0, 2.0], [0.0, 0.25, 0.5, 1.0])

    assert (stats.min, stats.max, stats.mean) == (1.0, 4.0, 2.5)
    assert stats.std == pytest.approx(math.sqrt(1.25))
    assert stats.quantiles == (
        Quantile(0.0, 1.0),
        Quantile(0.25, 1.75),
        Quantile(0.5, 2.5),
        Quantile(1.0, 4.0),
    )


def test_quantiles_come_in_the_order_asked_for() -> None:
    stats = describe([10.0, 20.0, 30.0], [0.9, 0.1])

    assert stats.quantiles == (Quantile(0.9, 28.0), Quantile(0.1, 12.0))


def test_one_value_is_every_figure_with_no_deviation() -> None:
    assert describe([7.0], [0.5]) == Statistics(7.0, 7.0, 7.0, 0.0, (Quantile(0.5, 7.0),))


def test_an_empty_distribution_is_zero_with_the_levels_still_named() -> None:
    assert describe([], [0.5, 0.95]) == Statistics(
        quantiles=(Quantile(0.5, 0.0), Quantile(0.95, 0.0))
    )
