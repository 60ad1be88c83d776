"""Empirical Bayes shrinkage of counts toward their parent group's distribution.

A contact's counts (replies and non-replies; or engagements per hour) are pulled toward their
company's distribution, the company's toward the account's, by a prior strength kappa
(pseudo-counts)
estimated from the data: how much more the children's proportions spread around their parent
than chance alone (multinomial sampling) would spread them. That spread is the intra-class
correlation rho, and kappa = 1/rho - 1 (the Dirichlet-multinomial's method of moments).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# rho kept inside (0, 1): no spread beyond chance means full pooling (kappa = 999), all spread none.
RHO_RANGE = (0.001, 0.999)


def proportions(counts: Sequence[float]) -> list[float]:
    """Counts as shares of their total (uniform when there are none)."""
    total = sum(counts)
    return [c / total for c in counts] if total else [1 / len(counts)] * len(counts)


def strength(pairs: Iterable[tuple[Sequence[float], Sequence[float]]], default: float) -> float:
    """kappa estimated from (child counts, parent distribution) pairs; `default` without evidence.

    For a child of n draws, D = sum_j (p_j - mu_j)^2 / sum_j mu_j(1 - mu_j) has expectation
    rho + (1 - rho)/n, so sum n*(D - 1/n) / sum n*(1 - 1/n) estimates rho (children of fewer
    than two draws say nothing).
    """
    top = bottom = 0.0
    for counts, parent in pairs:
        n = sum(counts)
        spread = sum(m * (1 - m) for m in parent)
        if n < 2 or spread <= 0:
            continue
        shares = proportions(counts)
        d = sum((p - m) ** 2 for p, m in zip(shares, parent, strict=True)) / spread
        top += n * (d - 1 / n)
        bottom += n - 1
    if bottom == 0:
        return default
    rho = min(max(top / bottom, RHO_RANGE[0]), RHO_RANGE[1])
    return 1 / rho - 1


def shrink(counts: Sequence[float], parent: Sequence[float], kappa: float) -> list[float]:
    """The posterior mean: (counts + kappa*parent) / (n + kappa)."""
    n = sum(counts)
    return [(c + kappa * m) / (n + kappa) for c, m in zip(counts, parent, strict=True)]


def weight(n: float, kappa: float) -> float:
    """How much of a shrunk estimate is the child's own evidence: n / (n + kappa)."""
    return n / (n + kappa) if n + kappa else 0.0
