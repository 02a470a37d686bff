"""The README's quickstart: a conditional space, an objective that reports per step, a stored experiment."""

import math

import knoblab as kl

space = {
    "lr": kl.Real(1e-4, 1e-1, log=True),
    "units": kl.Int(8, 256, log=True),
    "dropout": (0.0, 0.5, 6),  # 6 evenly spaced values, both ends included
    "optimizer": ["adam", "nadam", "rmsprop"],
    "epochs": 20,
    "layers": kl.Branch({1: {}, 2: {"units2": kl.Int(8, 128)}}),
}


def objective(trial):
    p = trial.params
    loss = 1.0
    for epoch in range(p["epochs"]):
        # a synthetic learning curve: best near lr=0.01, units=64, dropout=0.2, two layers
        floor = (math.log10(p["lr"]) + 2) ** 2 + (math.log2(p["units"]) - 6) ** 2 / 10 + (p["dropout"] - 0.2) ** 2
        floor += 0.0 if p["layers"] == 2 else 0.3
        loss = floor + math.exp(-epoch / 5)
        trial.report(epoch, val_loss=loss)
        if trial.should_stop():
            break
    return {"val_loss": loss, "optimizer": p["optimizer"]}


exp = kl.Experiment("quickstart", space, metric="val_loss", direction="min", seed=0)
exp.optimize(objective, n_trials=40)
print("best:", exp.best.params, "val_loss =", round(exp.best.value, 4))
print(exp.results[["number", "state", "value", "lr", "units", "layers"]].head())
