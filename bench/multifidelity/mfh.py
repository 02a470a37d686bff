"""The multi-fidelity Hartmann functions mfh3 and mfh6 of mf-prior-bench (Mallik et al. 2023), as published there.

mf-prior-bench itself pins numpy<2 and pandas 3 here, which would change the environment of the whole project, so
the benchmark uses the package when it is importable (it checks that both agree) and this transcription otherwise.
Fidelity z in 1..100; the bias flattens the function and the noise grows as z falls; z = 100 is the noiseless
Hartmann function. Defaults as mfpbench's "mfh3"/"mfh6": bias 0.5, noise 0.1, the generator's seed 1337 unless one
is given.
"""

from __future__ import annotations

import warnings

import numpy as np

Z_MIN, Z_MAX = 1, 100
ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
A3 = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
P3 = np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]], dtype=float)
A6 = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]],
    dtype=float,
)
P6 = np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ],
    dtype=float,
)
OPTIMUM = {3: -3.86278, 6: -3.32237}


class MFHartmann:
    """mfh3 (dims=3) or mfh6 (dims=6): `f(z, xs)` at fidelity z (an int in 1..100) for a point of [0, 1]^dims."""

    def __init__(self, dims: int, bias: float = 0.5, noise: float = 0.1, seed: int | None = None):
        self.dims, self.bias, self.noise = dims, bias, noise
        self.seed = seed if seed else 1337
        self.A, self.P = (A3, P3) if dims == 3 else (A6, P6)

    def __call__(self, z: int, xs: tuple[float, ...]) -> float:
        assert len(xs) == self.dims
        s = (np.log(z) - np.log(Z_MIN)) / (np.log(Z_MAX) - np.log(Z_MIN))
        x = np.array(xs, dtype=float).reshape(1, -1)
        alpha = ALPHA - self.bias * (1 - s)
        inner = np.sum(self.A * (x[:, np.newaxis, :] - 0.0001 * self.P) ** 2, axis=-1)
        h = -(np.sum(alpha * np.exp(-inner), axis=-1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rng = np.random.default_rng(seed=abs(self.seed * z * hash(tuple(xs))))
        return float((h + np.abs(rng.normal(size=h.size)) * self.noise * (1 - s))[0])


def make(name: str, seed: int | None = None):
    """(f(z, xs), dims, source): mfpbench's function when it imports, else the transcription above."""
    dims = int(name[-1])
    own = MFHartmann(dims, seed=seed)
    try:
        import mfpbench

        bench = mfpbench.get(name, seed=seed)
        xs = tuple(float(v) for v in np.random.default_rng(0).random(dims))
        config = bench.space.get_default_configuration()  # any config: check the two agree at a few fidelities
        values = dict(config)
        keys = sorted(values)
        xs = tuple(float(values[k]) for k in keys)
        for z in (1, 7, 100):
            theirs = float(bench.mfh(z=z, Xs=xs))
            assert abs(theirs - own(z, xs)) < 1e-9, (z, theirs, own(z, xs))
        return bench.mfh, dims, "mf-prior-bench " + getattr(mfpbench, "__version__", "")
    except ImportError:
        return own, dims, "knoblab transcription of mf-prior-bench's MFHartmann"
