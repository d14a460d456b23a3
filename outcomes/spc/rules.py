"""The Making Data Count special-cause rules on one segment of an XmR chart, as NHSRplotthedots
(R, version 0.2.2, `R/ptd_spc_standard.R` and `R/ptd_calculate_point_type.R`) implements them.

Every function takes plain numpy arrays of one segment (one rebase group, no gaps) and returns
one value per point. The details that matter, each as the R code has it:

* limits: mean +- 2.66 x mean moving range; moving ranges of the first `fix_after_n_points`
  points only; a moving range is kept when it is *strictly below* 3.267 x the mean moving range
  (one at exactly 3.267 x is screened out), then the mean moving range is recomputed;
* outside the limits: strictly above the upper or strictly below the lower limit (a point on a
  limit is not outside);
* "close to the limits" (beyond 2 sigma): strictly beyond mean +- (2/3) x 2.66 x mean moving
  range and not outside the limits: a point outside the limits does not count towards 2 of 3;
* 2 of 3: in some window of 3 consecutive points, at least 2 are close to the limits and all 3
  lie on the same side of the mean (none on it); only the points that are close are flagged;
* a shift: 7 or more consecutive points strictly on one side of the mean (a point on the mean
  breaks the run); every point of the run is flagged;
* a trend: 7 or more consecutive points each strictly above (or below) the one before (a tie
  breaks the trend); every point is flagged, on either side of the mean; a point shared by a
  rising and a falling trend takes the direction of the trend that follows it;
* precedence: outside the limits, then trend, then 2 of 3, then shift.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "LIMIT",
    "LIMIT_CLOSE",
    "SCREEN",
    "RUN",
    "segment_limits",
    "seven_point_one_side_mean",
    "seven_point_trend",
    "part_of_seven",
    "two_in_three",
    "special_cause_type",
    "point_type",
]

#: 3 / d2 (d2 = 1.128 for moving ranges of 2), rounded as Making Data Count does
LIMIT = 2.66
#: the "2 sigma" line: two thirds of the way to the limits
LIMIT_CLOSE = 2 * (LIMIT / 3)
#: moving ranges at or above this multiple of the mean moving range are screened out (D4 for n = 2)
SCREEN = 3.267
#: points in a shift or a trend
RUN = 7


def segment_limits(y: np.ndarray, fix_after_n_points: int | None = None, screen_outliers: bool = True) -> dict[str, float]:
    """Mean, mean moving range (after screening), lower and upper process limits of one segment.

    `y` is the segment's values in time order (no missing values). With `fix_after_n_points`,
    only the first n points give the mean and the moving ranges. A segment whose moving ranges
    are all zero has no limits (NaN), as in NHSRplotthedots.
    """
    y = np.asarray(y, dtype=float)
    base = y[:fix_after_n_points] if fix_after_n_points else y
    mean = float(np.mean(base)) if len(base) else float("nan")
    moving_ranges = np.abs(np.diff(base))
    amr = float(np.mean(moving_ranges)) if len(moving_ranges) else float("nan")
    if screen_outliers and len(moving_ranges):
        moving_ranges = moving_ranges[moving_ranges < SCREEN * amr]
        amr = float(np.mean(moving_ranges)) if len(moving_ranges) else float("nan")
    return {
        "mean": mean,
        "amr": amr,
        "lpl": mean - LIMIT * amr,
        "upl": mean + LIMIT * amr,
        "nlpl": mean - LIMIT_CLOSE * amr,
        "nupl": mean + LIMIT_CLOSE * amr,
    }


def _windows(values: np.ndarray, size: int) -> np.ndarray:
    """Every run of `size` consecutive values, one per row (none if there are fewer values)."""
    if len(values) < size:
        return np.empty((0, size))
    return np.lib.stride_tricks.sliding_window_view(values, size)


def seven_point_one_side_mean(relative_to_mean: np.ndarray) -> np.ndarray:
    """1 at each point that ends 7 points in a row on the same (non-zero) side of the mean."""
    side = np.asarray(relative_to_mean, dtype=float)
    ends = np.zeros(len(side))
    windows = _windows(side, RUN)
    ends[RUN - 1:] = ((windows == windows[:, -1:]).all(axis=1) & (windows[:, -1] != 0)).astype(float)
    return ends


def seven_point_trend(y: np.ndarray) -> np.ndarray:
    """+1 / -1 at each point that ends 7 strictly rising / falling points, else 0."""
    steps = np.sign(np.diff(np.asarray(y, dtype=float)))
    ends = np.zeros(len(y))
    windows = _windows(steps, RUN - 1)
    ends[RUN - 1:] = (windows == 1).all(axis=1).astype(float) - (windows == -1).all(axis=1).astype(float)
    return ends


def part_of_seven(ends: np.ndarray) -> np.ndarray:
    """1 at every point of a run of 7 given the points that end one (the point or one of the next 6)."""
    ends = (np.abs(np.asarray(ends, dtype=float)) == 1).astype(float)
    padded = np.concatenate([ends, np.zeros(RUN - 1)])
    return (_windows(padded, RUN).sum(axis=1) > 0).astype(float)


def two_in_three(close: np.ndarray, relative_to_mean: np.ndarray) -> np.ndarray:
    """1 at each point flagged by 2 of 3: the point is close to the limits and lies in a window of
    3 consecutive points, all on its side of the mean, at least 2 of which are close."""
    close = np.asarray(close, dtype=float)
    side = np.asarray(relative_to_mean, dtype=float)
    n = len(close)
    hit = np.zeros(max(n - 2, 0), dtype=bool)  # windows starting at 0 .. n-3
    if n >= 3:
        hit = (_windows(close, 3).sum(axis=1) >= 2) & (np.abs(_windows(side, 3).sum(axis=1)) == 3)
    in_window = np.zeros(n, dtype=bool)
    for offset in range(3):  # a point is in the windows starting at it and at the two before it
        in_window[offset:offset + len(hit)] |= hit
    return (in_window & (close == 1)).astype(float)


def special_cause_type(y: np.ndarray, relative_to_mean: np.ndarray, close: np.ndarray, outside: np.ndarray) -> list[str]:
    """The special-cause label of every point of one segment, in NHSRplotthedots' words:
    "Above UCL", "Below LCL", "7 Point Trend (Increasing|Decreasing)", "2 in 3 Above|Below CL",
    "7 Points Above|Below CL" or "Common Cause"."""
    y = np.asarray(y, dtype=float)
    side = np.asarray(relative_to_mean, dtype=float)
    trend = part_of_seven(seven_point_trend(y))
    pair = two_in_three(close, side)
    shift = part_of_seven(seven_point_one_side_mean(side))
    steps = np.sign(np.diff(y))
    labels = []
    for i in range(len(y)):
        if outside[i]:
            labels.append("Above UCL" if side[i] == 1 else "Below LCL")
            continue
        if trend[i]:
            # a point whose next point is in a trend too takes the step to it, else the step into it
            next_in_trend = i + 1 < len(y) and trend[i + 1]
            step = steps[i] if next_in_trend else (steps[i - 1] if i > 0 else 0.0)
            labels.append(f"7 Point Trend ({'In' if step == 1 else 'De'}creasing)")
            continue
        above_or_below = "Above" if side[i] > 0 else "Below"
        if pair[i]:
            labels.append(f"2 in 3 {above_or_below} CL")
        elif shift[i]:
            labels.append(f"7 Points {above_or_below} CL")
        else:
            labels.append("Common Cause")
    return labels


def point_type(label: str, improvement: str) -> str:
    """A special-cause label oriented by the improvement direction ("increase", "decrease",
    "neutral"): common_cause, special_cause_improvement / _concern, or special_cause_neutral_high / _low."""
    high = "Above" in label or "Increasing" in label
    low = "Below" in label or "Decreasing" in label
    if not (high or low):
        return "common_cause"
    if improvement == "neutral":
        return "special_cause_neutral_high" if high else "special_cause_neutral_low"
    good = high if improvement == "increase" else low
    return "special_cause_improvement" if good else "special_cause_concern"
