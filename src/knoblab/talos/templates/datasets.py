"""Talos' template datasets, without a download: Talos fetches CSV files from GitHub at run time, and knoblab never
reaches the network. iris, breast_cancer and mnist (as scikit-learn's digits) come from scikit-learn's bundled
data; titanic, cervical_cancer, icu_mortality and telco_churn are generated stand-ins of the same shapes and
column kinds (each docstring says what it mimics), with labels that depend on the features, so models can learn
them. Every one is the same on every call (a fixed seed)."""

from __future__ import annotations

import numpy as np

__all__ = ["iris", "breast_cancer", "mnist", "titanic", "cervical_cancer", "icu_mortality", "telco_churn"]


def _one_hot(labels: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype="float32")[labels]


def iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris (scikit-learn's copy): x (150, 4) measurements, y (150, 3) one-hot species, rows shuffled."""
    from sklearn.datasets import load_iris

    data = load_iris()
    order = np.random.default_rng(0).permutation(len(data.target))
    return data.data[order], _one_hot(data.target[order], 3)


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Wisconsin diagnostic breast cancer (scikit-learn's copy): x (569, 30), y 1 for malignant, as Talos."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return data.data, (data.target == 0).astype(int)


def mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, y_train, x_val, y_val of handwritten digits shaped as MNIST's (28 x 28 x 1, floats in [0, 1],
    10 one-hot classes): scikit-learn's 1,797 8 x 8 digits, each pixel repeated 3 x 3 and padded by 2 (MNIST
    itself is a download). 1,500 train, 297 validate."""
    import keras
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    images = np.kron(data.images[order], np.ones((3, 3)))  # (n, 24, 24)
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).astype("float32") / 16.0
    if keras.config.image_data_format() == "channels_first":
        images, shape = images[:, None], (1, 28, 28)
    else:
        images, shape = images[..., None], (28, 28, 1)
    y = _one_hot(data.target[order], 10)
    print(f"Use input_shape {shape}")
    return images[:1500], y[:1500], images[1500:], y[1500:]


def titanic() -> tuple[np.ndarray, np.ndarray]:
    """A generated stand-in for Talos' titanic: 891 passengers, x (891, 21) = age (with 177 missing values, NaN),
    sibsp, parch, then 0/1 columns for class (3), embark town (3), who (man, woman, child), deck (A-G, most
    rows none) and sex (2); y survived (about 38%), more likely for women, children and first class."""
    rng = np.random.default_rng(891)
    n = 891
    sex = rng.random(n) < 0.35  # female
    child = rng.random(n) < 0.09
    age = np.where(child, rng.uniform(0.5, 15, n), rng.normal(32, 12, n).clip(16, 80)).round()
    pclass = rng.choice(3, n, p=[0.24, 0.21, 0.55])
    town = rng.choice(3, n, p=[0.19, 0.09, 0.72])
    deck = np.where(rng.random(n) < 0.23, rng.choice(7, n), -1)
    sibsp = rng.choice(np.arange(9), n, p=[0.68, 0.23, 0.03, 0.02, 0.02, 0.01, 0.0, 0.0, 0.01])
    parch = rng.choice(np.arange(7), n, p=[0.76, 0.13, 0.09, 0.005, 0.005, 0.005, 0.005])
    logit = -0.2 + 2.4 * sex + 1.2 * child - 0.9 * pclass + 0.3 * (deck >= 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    age[rng.choice(n, 177, replace=False)] = np.nan
    who = np.where(child, 2, np.where(sex, 1, 0))
    x = np.column_stack(
        [age, sibsp, parch, _one_hot(pclass, 3), _one_hot(town, 3), _one_hot(who, 3)]
        + [(deck == d).astype(float) for d in range(7)]
        + [sex.astype(float), (~sex).astype(float)]
    ).astype(float)
    print("BE CAREFUL, this dataset has nan values.")
    return x, y


def cervical_cancer() -> tuple[np.ndarray, np.ndarray]:
    """A generated stand-in for Talos' cervical cancer risk factors (after its cleaning): x (668, 30) floats
    (age, partner and pregnancy counts, smoking and contraception years, 0/1 diagnoses and STD flags), y the
    Schiller test (about 9% positive), tied to a few of them."""
    rng = np.random.default_rng(668)
    n = 668
    counts = np.column_stack(
        [
            rng.normal(27, 8, n).clip(13, 84).round(),  # age
            rng.poisson(2.5, n) + 1,  # sexual partners
            rng.normal(17, 2.5, n).clip(10, 32).round(),  # first intercourse
            rng.poisson(2.2, n),  # pregnancies
        ]
    )
    smokes = rng.random(n) < 0.15
    contraceptives = rng.random(n) < 0.64
    iud = rng.random(n) < 0.1
    years = np.column_stack(
        [
            smokes,
            smokes * rng.gamma(2, 3, n),  # smoking years
            smokes * rng.gamma(1, 2, n),  # packs a year
            contraceptives,
            contraceptives * rng.gamma(1.5, 2, n),
            iud,
            iud * rng.gamma(1.5, 2, n),
        ]
    )
    flags = (rng.random((n, 19)) < rng.uniform(0.002, 0.1, 19)).astype(float)  # diagnoses and STDs
    x = np.column_stack([counts, years, flags]).astype(float)
    logit = -3.0 + 0.9 * flags[:, 0] + 1.2 * flags[:, 1] + 0.04 * (counts[:, 0] - 27) + 0.6 * smokes
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def icu_mortality(samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A generated stand-in for Talos' ICU mortality data: x (4000, 50) numeric vitals and lab values, y hospital
    mortality (about 14%), tied to some of them; `samples` keeps the first of the shuffled rows, as Talos."""
    rng = np.random.default_rng(4000)
    n = 4000
    x = rng.normal(size=(n, 50)) * rng.uniform(0.5, 20, 50) + rng.uniform(0, 100, 50)
    z = (x - x.mean(0)) / x.std(0)
    logit = -2.2 + 0.8 * z[:, 0] - 0.6 * z[:, 3] + 0.5 * z[:, 7] + 0.4 * z[:, 11]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    order = rng.permutation(n)[:samples]
    return x[order], y[order]


def telco_churn(quantile: float = 0.5) -> tuple[np.ndarray, list[np.ndarray]]:
    """A generated stand-in for Talos' telco churn set, which is a log of a hyperparameter scan: x (1000, 42) 0/1
    columns (six hyperparameters one-hot), y = [y1, y2] from the scan's val_loss and val_f1score: with
    quantile > 0, y1 = val_loss below its quantile and y2 = val_f1score above its quantile (0/1); with 0 the
    values themselves. For multi-output models."""
    if not 0 <= quantile < 1:
        raise ValueError(f"telco_churn: quantile must be in [0, 1), got {quantile!r}")
    rng = np.random.default_rng(1000)
    n, levels = 1000, [8, 8, 7, 7, 6, 6]  # 42 one-hot columns
    codes = [rng.integers(0, k, n) for k in levels]
    x = np.column_stack([_one_hot(c, k) for c, k in zip(codes, levels, strict=True)]).astype(int)
    val_loss = 0.4 + 0.03 * codes[0] - 0.02 * codes[2] + rng.normal(0, 0.05, n)
    val_f1 = 0.6 - 0.02 * codes[0] + 0.03 * codes[4] + rng.normal(0, 0.05, n)
    if quantile > 0:
        y1 = (val_loss < np.quantile(val_loss, quantile)).astype(int)
        y2 = (val_f1 > np.quantile(val_f1, quantile)).astype(int)
        return x, [y1, y2]
    return x, [val_loss, val_f1]
