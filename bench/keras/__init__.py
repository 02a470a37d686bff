"""Keras tuning side by side: knoblab, Keras Tuner, Optuna and Talos on the same tasks, seeds and epoch budgets.

python -m bench.keras.run [--budgets 240 900] [--seeds 5] [--workers 2]    # bench/keras/README.md
python -m bench.keras.report
"""

import os

# the backend every tool runs on (Keras Tuner and Talos included), before anything imports Keras; one compute thread
# per process is set by the parent package (bench/__init__.py) and by each cell (knoblab.keras.hygiene)
os.environ.setdefault("KERAS_BACKEND", "torch")
