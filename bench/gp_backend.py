"""numpy/scipy or torch for the GP? Times one evaluation of the log marginal likelihood and its gradient (what
fitting the hyperparameters repeats ~30-100 times per suggestion) and one batch of 1,024 posterior predictions,
in both, on one BLAS/torch thread and on all threads:

    .venv/bin/python -m bench.gp_backend
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

SQRT5 = math.sqrt(5.0)


def numpy_mll(D, y, theta):
    d, n = D.shape[2], len(y)
    inv_l2 = np.exp(-2 * theta[:d])
    s, noise = math.exp(theta[d]), math.exp(theta[d + 1])
    r = np.sqrt(np.maximum(D @ inv_l2, 0.0))
    e = np.exp(-SQRT5 * r)
    Kf = s * (1 + SQRT5 * r + 5.0 / 3.0 * r * r) * e
    c, _ = lapack.dpotrf(Kf + (noise + 1e-8) * np.eye(n), lower=1, clean=1)
    alpha = lapack.dpotrs(c, y, lower=1)[0]
    Kinv = lapack.dpotri(c, lower=1)[0]
    Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
    W = np.outer(alpha, alpha) - Kinv
    M = s * (5.0 / 3.0) * (1 + SQRT5 * r) * e
    g = -0.5 * np.einsum("ab,abj->j", W * M, D) * inv_l2
    return 0.5 * y @ alpha + np.log(np.diag(c)).sum(), g


def torch_mll(torch, X, y, theta):
    theta = theta.clone().requires_grad_(True)
    d, n = X.shape[1], len(y)
    ls = torch.exp(theta[:d])
    diff = (X[:, None, :] - X[None, :, :]) / ls
    r = torch.sqrt((diff**2).sum(-1) + 1e-30)
    K = torch.exp(theta[d]) * (1 + SQRT5 * r + 5.0 / 3.0 * r * r) * torch.exp(-SQRT5 * r)
    K = K + (torch.exp(theta[d + 1]) + 1e-8) * torch.eye(n, dtype=X.dtype)
    L = torch.linalg.cholesky(K)
    alpha = torch.cholesky_solve(y[:, None], L)[:, 0]
    nll = 0.5 * y @ alpha + torch.log(torch.diagonal(L)).sum()
    nll.backward()
    return float(nll.detach()), theta.grad


def timeit(fn, repeats=10):
    fn()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def main():
    import torch

    rng = np.random.default_rng(0)
    print(f"load {os.getloadavg()[0]:.1f}; torch {torch.__version__}; numpy {np.__version__}")
    print("| trials | numpy, 1 thread | numpy, all threads | torch, 1 thread | torch, all threads |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in (100, 500, 1000):
        X = rng.random((n, 10))
        y = rng.normal(size=n)
        theta = np.zeros(12)
        D = (X[:, None, :] - X[None, :, :]) ** 2
        Xt, yt, tt = torch.tensor(X), torch.tensor(y), torch.tensor(theta)
        row = []
        for threads in (1, None):
            with threadpool_limits(limits=threads):
                row.append(timeit(lambda D=D, y=y, theta=theta: numpy_mll(D, y, theta), 5))
        n_threads = torch.get_num_threads()
        for threads in (1, n_threads):
            torch.set_num_threads(threads)
            row.append(timeit(lambda Xt=Xt, yt=yt, tt=tt: torch_mll(torch, Xt, yt, tt), 5))
        torch.set_num_threads(n_threads)
        print(f"| {n} | " + " | ".join(f"{1000 * t:.1f} ms" for t in row) + " |")


if __name__ == "__main__":
    main()
