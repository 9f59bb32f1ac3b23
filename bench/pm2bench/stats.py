"""Summary statistics of a list of samples (median, p90, min, max)."""

import statistics


def pct(xs, p):
    """Nearest-rank style percentile with linear interpolation."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(xs):
    """The dict every latency row of the report reads (`median`, `p90`)."""
    return {
        "n": len(xs),
        "median": statistics.median(xs) if xs else float("nan"),
        "p90": pct(xs, 90),
        "min": min(xs) if xs else float("nan"),
        "max": max(xs) if xs else float("nan"),
    }
