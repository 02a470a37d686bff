"""Port of Talos' tests/commands/test_templates.py: unchanged but for `import talos` -> `import knoblab.talos as
talos`. The templates are knoblab.talos' Keras 3 ones and the datasets are bundled or generated (no download); the
titanic stand-in has NaN ages, as Talos' data, so its rounds diverge and end FAILED at once. Each Scan here reuses
a name with another params dict or other data, so each after the first is a new run ('test_#2', ...), as Talos
starts a new log in the same folder."""

import pytest


@pytest.mark.slow
def test_templates():
    print("\n >>> start templates ...")

    import knoblab.talos as talos

    x, y = talos.templates.datasets.titanic()
    x = x[:50]
    y = y[:50]
    model = talos.templates.models.titanic
    p = talos.templates.params.titanic()
    talos.Scan(x, y, p, model, "test_", round_limit=2)

    x, y = talos.templates.datasets.iris()

    x = x[:50]
    y = y[:50]
    model = talos.templates.models.iris
    p = talos.templates.params.iris()
    talos.Scan(x, y, p, model, "test_", round_limit=2)

    x, y = talos.templates.datasets.cervical_cancer()
    x = x[:50]
    y = y[:50]
    model = talos.templates.models.cervical_cancer
    p = talos.templates.params.cervical_cancer()
    talos.Scan(x, y, p, model, "test_", round_limit=2)

    x, y = talos.templates.datasets.breast_cancer()
    x = x[:50]
    y = y[:50]
    model = talos.templates.models.breast_cancer
    p = talos.templates.params.breast_cancer()
    talos.Scan(x, y, p, model, "test_", round_limit=2)

    x, y = talos.templates.datasets.icu_mortality(50)
    x, y = talos.templates.datasets.telco_churn(0.3)
    x, y, x1, y1 = talos.templates.datasets.mnist()
    x, y = talos.templates.datasets.breast_cancer()
    x, y = talos.templates.datasets.cervical_cancer()
    x, y = talos.templates.datasets.titanic()

    talos.templates.pipelines.breast_cancer(random_method="uniform_mersenne")
    talos.templates.pipelines.cervical_cancer(random_method="sobol")
    talos.templates.pipelines.iris(random_method="uniform_crypto")
    talos.templates.pipelines.titanic(random_method="korobov_matrix")

    print("finish templates \n")

    import knoblab as kl

    names = {e.name for e in kl.Experiment.load("test").storage.list_experiments()}
    assert {"test_", "test_#2", "test_#3", "test_#4", "test", "test#2", "test#3", "test#4"} <= names
