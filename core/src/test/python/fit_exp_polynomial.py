#!/usr/bin/env python3
"""The polynomial of VectorExp (core, dev.vertebra.core.cpu): e^r ≈ 1 + r + r²·Q(r) on |r| ≤ ln2/2, Q of degree 4.

Q's coefficients are fitted for the least maximum relative error of the whole polynomial by iteratively reweighted
least squares on Chebyshev nodes (the weights grow where the error is largest, which approaches the minimax fit),
then rounded to float. Prints them as Java float literals with the maximum relative error in exact arithmetic, for
comparison the degree-7 Taylor polynomial's, which VectorExp used before.

    /usr/bin/python3 core/src/test/python/fit_exp_polynomial.py
"""
import math

import numpy as np

HALF_LN2 = math.log(2) / 2
DEGREE = 4


def total(r, q):
    """1 + r + r²·Q(r) in double, Q by Horner's rule from its highest coefficient."""
    p = np.full_like(r, q[-1])
    for c in q[-2::-1]:
        p = p * r + c
    return 1 + r + r * r * p


def fit():
    nodes = np.cos(np.pi * (np.arange(6000) + 0.5) / 6000) * HALF_LN2
    nodes = nodes[np.abs(nodes) > 1e-6]
    exact = np.exp(nodes)
    target = (exact - 1 - nodes) / nodes ** 2
    scale = nodes ** 2 / exact  # relative error of the total = scale · (Q − target)
    basis = np.vander(nodes, DEGREE + 1, increasing=True)
    weights = scale.copy()
    for _ in range(200):
        q, *_ = np.linalg.lstsq(basis * weights[:, None], target * weights, rcond=None)
        error = np.abs((basis @ q - target) * scale)
        weights = weights * (1 + 20 * error / error.max())
    return np.float32(q).astype(np.float64)


def main():
    q = fit()
    r = np.linspace(-HALF_LN2, HALF_LN2, 400001)
    worst = np.max(np.abs(total(r, q) / np.exp(r) - 1))
    taylor = 1 + r + r ** 2 * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040)))))
    print("Q(r) coefficients, r^0 first:", ", ".join(float(c).hex().replace("0000000p", "p") + "f" for c in q))
    print(f"max relative error: {worst:.3g} (degree-7 Taylor: {np.max(np.abs(taylor / np.exp(r) - 1)):.3g})")


if __name__ == "__main__":
    main()
