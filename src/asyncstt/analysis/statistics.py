"""Descriptive statistics of a distribution: min, max, mean, standard deviation and quantiles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Quantile:
    """The value below which `level` (0 to 1) of the distribution lies."""

    level: float
    value: float


@dataclass(frozen=True)
class Statistics:
    """A distribution summed up; every figure is 0 for an empty one."""

    min: float = 0.0
    max: float = 0.0
    mean: float = 0.0
    #: Population standard deviation (divided by the count, not the count less one).
    std: float = 0.0
    quantiles: tuple[Quantile, ...] = ()


def describe(values: Sequence[float], levels: Sequence[float]) -> Statistics:
    """The statistics of `values` with a quantile at each of `levels`, in the order asked for.

    Quantiles interpolate linearly between the two nearest ranks (NumPy's default, Hyndman and Fan's type 7), so
    level 0 is the minimum, 0.5 the median and 1 the maximum.
    """
    if not values:
        return Statistics(quantiles=tuple(Quantile(level, 0.0) for level in levels))
    ordered = sorted(values)
    mean = math.fsum(ordered) / len(ordered)
    variance = math.fsum((value - mean) ** 2 for value in ordered) / len(ordered)
    return Statistics(
        min=ordered[0],
        max=ordered[-1],
        mean=mean,
        std=math.sqrt(variance),
        quantiles=tuple(Quantile(level, _quantile(ordered, level)) for level in levels),
    )


def _quantile(ordered: Sequence[float], level: float) -> float:
    rank = (len(ordered) - 1) * level
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])
