"""knoblab's benchmarks against Optuna, Hyperopt and scikit-optimize (see bench/README.md).

Every library runs its linear algebra on one thread (set here, before numpy, scipy or torch load): runs go
in parallel worker processes, and threaded BLAS on a busy 2-core machine spins and slows down 10x or more,
which would measure the machine's contention rather than the optimizers.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
