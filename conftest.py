"""Pytest set-up shared by `tests/` and `notebooks/`.

Under pytest-xdist every worker (and every notebook kernel it starts, which inherits the environment) gets an equal
share of the CPU cores for its BLAS and torch thread pools. Without the cap each of the two workers on a 2-core CI
machine runs two spinning OpenMP threads, and the oversubscribed torch kernels run tens of times slower.
"""

import os

if "PYTEST_XDIST_WORKER" in os.environ:
    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    _threads = str(max(1, (os.cpu_count() or 1) // _workers))
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_variable, _threads)
