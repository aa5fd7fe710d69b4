"""Reference coefficients of L2 logistic regression on the propensity splits of shared/bench
(gen/propensity.py: telco and bank, the numeric training files), for
tests/unit/predict/test_logistic_reference.py.

Preprocessing as the scikit-learn anchor (anchors/propensity.py): each column's missing
values become its median, then the column is centred and divided by its population standard
deviation (1 when 0). Model: minimise sum_i log(1 + exp(m_i)) - y_i m_i + 1/2 |w|^2 (C = 1,
intercept unpenalised), solved here by plain Newton iterations (numpy.linalg.solve of the
full Hessian) until the step is below 1e-13: written for the test, no library solver.

usage: /usr/bin/python3 tests/data/make_logistic_reference.py TELCO.num_train.csv BANK.num_train.csv OUT.csv
"""
import sys

import numpy as np
import pandas as pd


def newton(path):
    df = pd.read_csv(path)
    y = df.pop("y").to_numpy(float)
    x = df.to_numpy(float)
    for j in range(x.shape[1]):
        c = x[:, j]
        c[np.isnan(c)] = np.nanmedian(c) if np.isfinite(c).any() else 0.0
        sd = c.std()
        x[:, j] = (c - c.mean()) / (sd if sd > 0 else 1.0)
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))])
    pen = np.eye(d + 1)
    pen[d, d] = 0
    theta = np.zeros(d + 1)
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a @ theta)))
        grad = a.T @ (p - y) + pen @ theta
        hess = (a * (p * (1 - p))[:, None]).T @ a + pen
        step = np.linalg.solve(hess, -grad)
        theta += step
        if np.abs(step).max() < 1e-13:
            break
    return theta


def main(telco, bank, out):
    with open(out, "w") as f:
        f.write("data,index,coefficient\n")
        for name, path in (("telco", telco), ("bank", bank)):
            for i, c in enumerate(newton(path)):
                f.write(f"{name},{i},{c:.17g}\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
