"""Logistic regression in pure Python, and the scores a probability forecast is judged by.

The model is small on purpose (a dozen features): an L2-penalised logistic regression fitted by
Newton's method on standardised features, so every coefficient can be read back on the
features' own scale. No numerical library is needed for a dozen columns and a few ten thousand
rows, and the arithmetic stays in one readable file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EPS = 1e-12


def sigmoid(z: float) -> float:
    """1 / (1 + e^-z), without overflow for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def logit(p: float) -> float:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a*x = b (Gaussian elimination with partial pivoting); `a` is small and regular."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


@dataclass
class Logistic:
    """A fitted model: feature names, the standardisation, and weights (intercept first)."""

    names: list[str]
    means: list[float]
    scales: list[float]
    weights: list[float]

    def predict(self, row: Sequence[float]) -> float:
        """The probability of the positive class for one row of features."""
        z = self.weights[0]
        for w, x, mu, s in zip(self.weights[1:], row, self.means, self.scales, strict=True):
            z += w * (x - mu) / s
        return sigmoid(z)

    def coefficients(self) -> dict[str, float]:
        """The weights on the features' own scale (what one unit of each feature adds to the
        log-odds), with the intercept under "intercept"."""
        raw = {n: w / s for n, w, s in zip(self.names, self.weights[1:], self.scales, strict=True)}
        intercept = self.weights[0] - sum(
            raw[n] * mu for n, mu in zip(self.names, self.means, strict=True)
        )
        return {"intercept": intercept, **raw}

    def to_dict(self) -> dict:
        """JSON-ready form (stored with the backtest)."""
        return {
            "names": self.names,
            "means": self.means,
            "scales": self.scales,
            "weights": self.weights,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Logistic:
        """The model `to_dict` wrote."""
        return cls(data["names"], data["means"], data["scales"], data["weights"])


def _standardisation(rows: list[Sequence[float]]) -> tuple[list[float], list[float]]:
    n, d = len(rows), len(rows[0])
    means = [sum(r[j] for r in rows) / n for j in range(d)]
    scales = []
    for j in range(d):
        var = sum((r[j] - means[j]) ** 2 for r in rows) / n
        scales.append(math.sqrt(var) if var > 1e-12 else 1.0)  # a constant column stays put
    return means, scales


def fit(
    names: list[str],
    rows: list[Sequence[float]],
    labels: list[int],
    l2: float = 1.0,
    iterations: int = 30,
) -> Logistic:
    """Maximise the log-likelihood minus l2/2*|w|^2 (intercept unpenalised) by Newton's method."""
    means, scales = _standardisation(rows)
    xs = [[1.0, *((x - mu) / s for x, mu, s in zip(r, means, scales, strict=True))] for r in rows]
    d = len(names) + 1
    w = [0.0] * d
    for _ in range(iterations):
        grad = [l2 * wj if j else 0.0 for j, wj in enumerate(w)]
        hess = [[l2 if i == j and i else 0.0 for j in range(d)] for i in range(d)]
        for x, y in zip(xs, labels, strict=True):
            p = sigmoid(sum(a * b for a, b in zip(w, x, strict=True)))
            r, v = p - y, max(p * (1 - p), EPS)
            for i in range(d):
                grad[i] += r * x[i]
                vi = v * x[i]
                row = hess[i]
                for j in range(i + 1):
                    row[j] += vi * x[j]
        for i in range(d):
            for j in range(i):
                hess[j][i] = hess[i][j]
        step = solve(hess, grad)
        w = [a - b for a, b in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return Logistic(names, means, scales, w)


def log_loss(probabilities: Sequence[float], labels: Sequence[int]) -> float:
    """Mean negative log-likelihood of the labels (lower is better)."""
    total = 0.0
    for p, y in zip(probabilities, labels, strict=True):
        p = min(max(p, EPS), 1 - EPS)
        total -= math.log(p) if y else math.log(1 - p)
    return total / len(labels)


def brier(probabilities: Sequence[float], labels: Sequence[int]) -> float:
    """Mean squared difference between probability and outcome (lower is better)."""
    pairs = zip(probabilities, labels, strict=True)
    return sum((p - y) ** 2 for p, y in pairs) / len(labels)


def calibration(
    probabilities: Sequence[float], labels: Sequence[int], bins: int = 10
) -> list[dict]:
    """Per probability decile: how many forecasts, their mean, and how often the event came."""
    groups: list[list[tuple[float, int]]] = [[] for _ in range(bins)]
    for p, y in zip(probabilities, labels, strict=True):
        groups[min(int(p * bins), bins - 1)].append((p, y))
    return [
        {
            "low": i / bins,
            "high": (i + 1) / bins,
            "n": len(g),
            "predicted": sum(p for p, _ in g) / len(g),
            "observed": sum(y for _, y in g) / len(g),
        }
        for i, g in enumerate(groups)
        if g
    ]
