"""Several objectives: knoblab's `auto` against Optuna's NSGA-II, TPE and GP samplers (see bench/README.md)."""
