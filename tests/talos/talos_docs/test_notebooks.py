# ruff: noqa: B018, UP031 - the notebooks evaluate attributes to show them, and format with %; the port keeps their lines
"""The code of Talos' example notebooks (autonomio/talos examples/*.ipynb) and examples/iris.py, ported; each test
says what changed besides `import talos` -> `import knoblab.talos as talos`. Notebook-only lines (`%matplotlib
inline`, `!ls`, a sys.path insert) are left out. Budgets are cut so each runs in seconds ("budget:")."""

import glob

import numpy as np
import pytest


@pytest.mark.slow
def test_a_very_short_introduction():
    """'A Very Short Introduction to Hyperparameter Optimization of Keras Models with Talos'. The Pima diabetes CSV
    it downloads is a generated stand-in of its shape (768 x 8, binary y) here: knoblab never downloads. Keras 3:
    `tensorflow.keras` -> `keras`, `input_dim=8` -> `Input((8,))`. Budget: 200 rows, epochs 100 -> 2."""
    rng = np.random.default_rng(768)
    dataset = np.column_stack([rng.normal(size=(200, 8)), np.zeros(200)])
    dataset[:, 8] = (dataset[:, 1] + 0.5 * dataset[:, 5] + rng.normal(0, 0.5, 200) > 0).astype(float)
    x = dataset[:, 0:8]
    y = dataset[:, 8]

    from keras.layers import Dense, Input
    from keras.models import Sequential

    p = {"first_neuron": [12, 24, 48], "activation": ["relu", "elu"], "batch_size": [10, 20, 30]}

    # add input parameters to the function
    def diabetes(x_train, y_train, x_val, y_val, params):
        # replace the hyperparameter inputs with references to params dictionary
        model = Sequential()
        model.add(Input((8,)))
        model.add(Dense(params["first_neuron"], activation=params["activation"]))
        # model.add(Dense(8, activation=params['activation']))
        model.add(Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

        # make sure history object is returned by model.fit()
        out = model.fit(x=x, y=y, validation_data=[x_val, y_val], epochs=2, batch_size=params["batch_size"], verbose=0)

        # modify the output model
        return out, model

    import knoblab.talos as talos

    t = talos.Scan(x=x, y=y, params=p, model=diabetes, experiment_name="diabetes")

    assert len(t.data) == 18 and "val_accuracy" in t.data.columns


@pytest.mark.slow
def test_functional_model():
    """'Functional Model Hyperparameter Optimization'. Keras 3: `tensorflow.keras` -> `keras`. Budget: epochs
    100 -> 2."""
    from keras.layers import Dense, Dropout, Input
    from keras.losses import binary_crossentropy  # noqa: F401 - as the notebook
    from keras.models import Model, Sequential  # noqa: F401 - as the notebook

    import knoblab.talos as talos

    # then we load the dataset
    x, y = talos.templates.datasets.breast_cancer()

    # and normalize every feature to mean 0, std 1
    x = talos.utils.rescale_meanzero(x)

    # first we have to make sure to input data and params into the function
    def breast_cancer_model(x_train, y_train, x_val, y_val, params):
        inputs = Input(shape=(x_train.shape[1],))

        layer = Dense(
            params["first_neuron"], activation=params["activation"], kernel_initializer=params["kernel_initializer"]
        )(inputs)

        layer = Dropout(params["dropout"])(layer)

        outputs = Dense(1, activation=params["last_activation"], kernel_initializer=params["kernel_initializer"])(layer)

        model = Model(inputs, outputs)

        model.compile(loss=params["losses"], optimizer=params["optimizer"], metrics=["acc"])

        history = model.fit(
            x_train,
            y_train,
            validation_data=[x_val, y_val],
            batch_size=params["batch_size"],
            epochs=params["epochs"],
            verbose=0,
        )

        return history, model

    # then we can go ahead and set the parameter space
    p = {
        "first_neuron": [9, 10, 11],
        "batch_size": [30],
        "epochs": [2],
        "dropout": [0],
        "kernel_initializer": ["uniform", "normal"],
        "optimizer": ["Adagrad", "Adam"],
        "losses": ["binary_crossentropy"],
        "activation": ["relu", "elu"],
        "last_activation": ["sigmoid"],
    }

    # and run the experiment
    t = talos.Scan(x=x, y=y, model=breast_cancer_model, params=p, experiment_name="breast_cancer", fraction_limit=0.5)

    assert len(t.data) == 12


def test_breast_cancer_notebook():
    """'Hyperparameter Optimization on Keras with Breast Cancer Data'. Keras 3: `tensorflow.keras` -> `keras`,
    `input_dim=` -> `Input(...)`. Budget: epochs 100 -> 2, round_limit 50 -> 3."""
    from keras.layers import Dense, Dropout  # noqa: F401 - as the notebook
    from keras.models import Sequential  # noqa: F401 - as the notebook

    import knoblab.talos as talos

    # then we load the dataset
    x, y = talos.templates.datasets.breast_cancer()

    # and normalize every feature to mean 0, std 1
    x = talos.utils.rescale_meanzero(x)

    plots = []

    # first we have to make sure to input data and params into the function
    def breast_cancer_model(x_train, y_train, x_val, y_val, params):
        from keras.layers import Input

        model = Sequential()
        model.add(Input((x_train.shape[1],)))
        model.add(
            Dense(
                params["first_neuron"], activation=params["activation"], kernel_initializer=params["kernel_initializer"]
            )
        )

        model.add(Dropout(params["dropout"]))

        model.add(Dense(1, activation=params["last_activation"], kernel_initializer=params["kernel_initializer"]))

        model.compile(
            loss=params["losses"], optimizer=params["optimizer"], metrics=["acc", talos.utils.metrics.f1score]
        )

        plots.append(talos.callbacks.TrainingPlot(metrics=["f1score"]))
        history = model.fit(
            x_train,
            y_train,
            validation_data=[x_val, y_val],
            batch_size=params["batch_size"],
            callbacks=[plots[-1]],
            epochs=params["epochs"],
            verbose=0,
        )

        return history, model

    # then we can go ahead and set the parameter space
    p = {
        "first_neuron": [9, 10, 11],
        "hidden_layers": [0, 1, 2],
        "batch_size": [30],
        "epochs": [2],
        "dropout": [0],
        "kernel_initializer": ["uniform", "normal"],
        "optimizer": ["Adagrad", "Adam"],
        "losses": ["binary_crossentropy"],
        "activation": ["relu", "elu"],
        "last_activation": ["sigmoid"],
    }

    # and run the experiment
    t = talos.Scan(
        x=x,
        y=y,
        model=breast_cancer_model,
        params=p,
        experiment_name="breast_cancer",
        round_limit=3,
        disable_progress_bar=True,
    )

    assert len(t.data) == 3 and len(plots) == 3 and plots[0].figure.axes[0].get_title() == "f1score"


@pytest.mark.slow
def test_iris_notebook():
    """'Hyperparameter Optimization with Keras for the Iris Prediction'. Keras 3: `tensorflow.keras` -> `keras`,
    `tensorflow.keras.optimizers.legacy` -> `keras.optimizers`, `params['optimizer'](lr=...)` ->
    `(learning_rate=...)` (Keras 3 takes no `lr`), `input_dim=` -> `Input(...)`. Budget: epochs 200 -> 2."""
    import pandas as pd  # noqa: F401 - as the notebook

    import knoblab.talos as talos

    x, y = talos.templates.datasets.iris()

    from keras.layers import Dense, Dropout, Input
    from keras.models import Sequential

    from knoblab.talos.utils import lr_normalizer

    def iris_model(x_train, y_train, x_val, y_val, params):
        model = Sequential()
        model.add(Input((x_train.shape[1],)))
        model.add(Dense(params["first_neuron"], activation="relu"))

        model.add(Dropout(params["dropout"]))
        model.add(Dense(y_train.shape[1], activation=params["last_activation"]))

        model.compile(
            optimizer=params["optimizer"](learning_rate=lr_normalizer(params["lr"], params["optimizer"])),
            loss=params["loss"],
            metrics=["acc"],
        )

        out = model.fit(
            x_train,
            y_train,
            batch_size=params["batch_size"],
            epochs=params["epochs"],
            verbose=0,
            validation_data=[x_val, y_val],
        )

        return out, model

    from keras.activations import softmax  # noqa: F401 - as the notebook
    from keras.losses import LogCosh, categorical_crossentropy  # noqa: F401 - as the notebook
    from keras.optimizers import Adagrad, Adam

    p = {
        "lr": (0.1, 10, 10),
        "first_neuron": [4, 8, 16, 32, 64, 128],
        "batch_size": [2, 3, 4],
        "epochs": [2],
        "dropout": (0, 0.40, 10),
        "optimizer": [Adam, Adagrad],
        "loss": ["categorical_crossentropy"],
        "last_activation": ["softmax"],
        "weight_regulizer": [None],
    }

    scan_object = talos.Scan(x, y, params=p, model=iris_model, experiment_name="iris", fraction_limit=0.001)

    # accessing the results data frame
    scan_object.data.head()

    # accessing epoch entropy values for each round
    scan_object.learning_entropy

    # access the summary details
    scan_object.details

    # accessing the saved models
    scan_object.saved_models

    # accessing the saved weights for models
    scan_object.saved_weights

    # use Scan object as input
    analyze_object = talos.Analyze(scan_object)

    # access the dataframe with the results
    analyze_object.data

    # get the number of rounds in the Scan
    analyze_object.rounds()

    # get the highest result for any metric
    analyze_object.high("val_acc")

    # get the round with the best result
    analyze_object.rounds2high("val_acc")

    # get the best paramaters
    analyze_object.best_params("val_acc", ["acc", "loss", "val_loss"])

    # get correlation for hyperparameters against a metric
    analyze_object.correlate("val_loss", ["acc", "loss", "val_loss"])

    # a regression plot for two dimensions
    analyze_object.plot_regs("val_acc", "val_loss")

    # line plot
    analyze_object.plot_line("val_acc")

    # up to two dimensional kernel density estimator
    analyze_object.plot_kde("val_acc")

    # a simple histogram
    analyze_object.plot_hist("val_acc", bins=50)

    # heatmap correlation
    analyze_object.plot_corr("val_loss", ["acc", "loss", "val_loss"])

    # a four dimensional bar grid
    analyze_object.plot_bars("batch_size", "val_acc", "first_neuron", "lr")

    evaluate_object = talos.Evaluate(scan_object)
    evaluate_object.evaluate(x, y, folds=10, metric="val_acc", task="multi_label")

    talos.Deploy(scan_object=scan_object, model_name="iris_deploy", metric="val_acc")

    iris = talos.Restore("iris_deploy.zip")

    # make predictions with the model
    iris.model.predict(x)

    # get the meta-data for the experiment
    iris.details

    # get the hyperparameter space boundary
    iris.params

    # sample of x and y data
    iris.x
    iris.y

    # the results dataframe
    iris.results

    assert len(scan_object.data) == 3 and iris.params["optimizer"] == ["Adam", "Adagrad"]


def test_recover_best_models_notebook():
    """'Recover Best Models from Experiment Log'. Keras 3: `tensorflow.keras` -> `keras`, `input_dim=4` ->
    `Input((4,))`; `wrangle.array_split` -> `talos.utils.val_split` (the same function). The notebook names the log
    file of its author's run ('minimal_iris/012620102735.csv'); here the run's own log is found with glob. Budget:
    round_limit 10 -> 4, n_models 5 -> 2."""
    from keras.layers import Dense, Input
    from keras.models import Sequential

    import knoblab.talos as talos

    # load the data
    x, y = talos.templates.datasets.iris()
    x_train, y_train, x_val, y_val = talos.utils.val_split(x, y, 0.3)

    # set the parameter space boundary
    p = {
        "activation": ["relu", "elu"],
        "optimizer": ["Adagrad", "Adam"],
        "losses": ["LogCosh"],
        "shapes": ["brick"],
        "first_neuron": [16, 32, 64, 128],
        "hidden_layers": [0, 1, 2, 3],
        "dropout": [0.2, 0.3, 0.4],
        "batch_size": [20, 30, 40, 50],
        "epochs": [10],
    }

    # define the input model
    def iris_model(x_train, y_train, x_val, y_val, params):
        model = Sequential()
        model.add(Input((4,)))
        model.add(Dense(params["first_neuron"], activation=params["activation"]))

        talos.utils.hidden_layers(model, params, 3)

        model.add(Dense(3, activation="softmax"))
        model.compile(optimizer=params["optimizer"], loss=params["losses"], metrics=["acc"])

        out = model.fit(
            x_train,
            y_train,
            callbacks=[talos.callbacks.ExperimentLog("minimal_iris", params)],
            batch_size=params["batch_size"],
            epochs=params["epochs"],
            validation_data=[x_val, y_val],
            verbose=0,
        )

        return out, model

    # start the experiment
    scan_object = talos.Scan(
        x=x_train,
        y=y_train,
        x_val=x_val,
        y_val=y_val,
        model=iris_model,
        experiment_name="minimal_iris",
        params=p,
        round_limit=4,
    )

    from knoblab.talos.utils.recover_best_model import recover_best_model

    (log,) = glob.glob("minimal_iris/*.csv")
    results, models = recover_best_model(
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        experiment_log=log,
        input_model=iris_model,
        n_models=2,
        task="multi_label",
    )

    results
    models[0].predict(x_val)

    assert len(results) == 2 and len(scan_object.data) == 4 and glob.glob("minimal_iris/*.log")


@pytest.mark.slow
def test_examples_iris_py():
    """examples/iris.py. Keras 3: `tensorflow.keras` -> `keras`, `input_dim=` -> `Input(...)`. Budget: epochs 50 -> 2."""
    # first import things as you would usually
    from keras.activations import relu, softmax  # noqa: F401 - as the script
    from keras.layers import Dense, Dropout, Input
    from keras.losses import categorical_crossentropy  # noqa: F401 - as the script
    from keras.models import Sequential

    # import talos
    import knoblab.talos as talos

    # load rthe iris dataset
    x, y = talos.templates.datasets.iris()

    # then define the parameter boundaries

    p = {"first_neuron": [8, 16, 32], "batch_size": [2, 3, 4]}

    # then define your Keras model
    def iris_model(x_train, y_train, x_val, y_val, params):
        model = Sequential()
        model.add(Input((x_train.shape[1],)))
        model.add(Dense(params["first_neuron"], activation="relu"))
        model.add(Dropout(0.5))
        model.add(Dense(y_train.shape[1], activation="softmax"))

        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["acc"])

        out = model.fit(
            x_train, y_train, batch_size=params["batch_size"], epochs=2, verbose=0, validation_data=[x_val, y_val]
        )

        return out, model

    # and run the scan
    h = talos.Scan(x, y, params=p, experiment_name="talos-debug", model=iris_model, round_limit=10)

    assert len(h.data) == 9  # the grid holds 9 permutations: round_limit 10 runs them all


def test_version_check_needs_no_tensorflow():
    """examples/version-check.py prints TensorFlow's and Talos' versions; Keras 3 needs no TensorFlow, so the port
    prints Keras' and knoblab's."""
    import sys

    import keras

    import knoblab.talos as talos

    print("Keras %s" % keras.__version__)
    print("knoblab %s (Talos API %s)" % (talos.__version__, talos.TALOS_API))
    print("Python %s" % sys.version.split()[0])
    assert talos.TALOS_API == "1.4"
