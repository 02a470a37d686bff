"""Talos' templates: datasets without downloads, of the shapes Talos' have; params and models on Keras 3."""

import numpy as np
import pytest

import knoblab.talos as talos
from knoblab.talos.params import to_space

datasets = talos.templates.datasets


def test_bundled_datasets():
    x, y = datasets.iris()
    assert x.shape == (150, 4) and y.shape == (150, 3) and (y.sum(1) == 1).all()
    assert len(np.unique(y[:50].argmax(1))) == 3  # shuffled: the first rows hold every class
    x, y = datasets.breast_cancer()
    assert x.shape == (569, 30) and y.sum() == 212  # malignant is 1, as Talos
    x_train, y_train, x_val, y_val = datasets.mnist()
    assert x_train.shape == (1500, 28, 28, 1) and y_train.shape == (1500, 10) and x_val.shape == (297, 28, 28, 1)
    assert x_train.min() >= 0 and x_train.max() == 1.0 and (y_val.sum(1) == 1).all()


def test_generated_stand_ins_have_talos_shapes(capsys):
    x, y = datasets.titanic()
    assert x.shape == (891, 21) and np.isnan(x[:, 0]).sum() == 177 and 0.3 < y.mean() < 0.5
    assert "BE CAREFUL, this dataset has nan values." in capsys.readouterr().out
    assert set(np.unique(x[:, 3:])) == {0.0, 1.0}
    x, y = datasets.cervical_cancer()
    assert x.shape == (668, 30) and not np.isnan(x).any() and 0.03 < y.mean() < 0.2
    x, y = datasets.icu_mortality(50)
    assert x.shape == (50, 50) and set(np.unique(y)) <= {0, 1}
    assert datasets.icu_mortality()[0].shape == (4000, 50)
    x, (y1, y2) = datasets.telco_churn(0.3)
    assert x.shape == (1000, 42) and (x.sum(1) == 6).all() and y1.mean() == pytest.approx(0.3, abs=0.01)
    x, (loss, f1) = datasets.telco_churn(0)
    assert loss.dtype == float and len(f1) == 1000


def test_the_same_data_on_every_call():
    np.testing.assert_array_equal(datasets.titanic()[1], datasets.titanic()[1])
    np.testing.assert_array_equal(datasets.iris()[0], datasets.iris()[0])


def test_the_stand_ins_labels_can_be_learned():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for load in (datasets.cervical_cancer, datasets.icu_mortality):
        x, y = load()
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[:500], y[:500])
        assert roc_auc_score(y[500:], model.predict_proba(x[500:])[:, 1]) > 0.7, load.__name__


@pytest.mark.parametrize("name", ["titanic", "iris", "breast_cancer", "cervical_cancer"])
def test_template_params_are_talos_dicts(name):
    space = to_space(getattr(talos.templates.params, name)())
    assert all(isinstance(v, list) and v for v in space.values())
    if name != "titanic":
        assert space["batch_size"] == [2, 4, 7, 10, 13, 16, 18, 21, 24, 27]
