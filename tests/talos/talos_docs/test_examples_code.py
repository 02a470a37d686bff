"""Talos' documented examples (autonomio/talos docs/Examples_*_Code.md), ported; each test says what changed.

Budgets are cut so each runs in seconds (the examples train 100-200 epochs over every permutation): the cuts are
named in each test as "budget:", apart from the Keras 3 ports and `import talos` -> `import knoblab.talos as talos`.
"""

import pytest


def test_typical():
    """Examples_Typical_Code.md. Keras 3: `tensorflow.keras` -> `keras`, `input_dim=4` -> `Input((4,))`.
    Budget: epochs [100, 200] -> [2, 3], round_limit 20 -> 4."""
    from keras.layers import Dense, Input
    from keras.models import Sequential

    import knoblab.talos as talos

    x, y = talos.templates.datasets.iris()

    # define the model
    def iris_model(x_train, y_train, x_val, y_val, params):
        model = Sequential()

        model.add(Input((4,)))
        model.add(Dense(32, activation=params["activation"]))
        model.add(Dense(3, activation="softmax"))

        model.compile(optimizer=params["optimizer"], loss=params["losses"], metrics=[talos.utils.metrics.f1score])

        out = model.fit(
            x_train,
            y_train,
            batch_size=params["batch_size"],
            epochs=params["epochs"],
            validation_data=[x_val, y_val],
            verbose=0,
        )

        return out, model

    # set the parameter space boundaries
    p = {
        "activation": ["relu", "elu"],
        "optimizer": ["Adagrad", "Adam"],
        "losses": ["categorical_crossentropy"],
        "epochs": [2, 3],
        "batch_size": [4, 6, 8],
    }

    # start the experiment
    scan_object = talos.Scan(x=x, y=y, model=iris_model, params=p, experiment_name="iris", round_limit=4)

    assert len(scan_object.data) == 4 and "val_f1score" in scan_object.data.columns


@pytest.mark.slow
def test_multiple_inputs():
    """Examples_Multiple_Inputs_Code.md. Keras 3: `tensorflow.keras` -> `keras`, `keras.layers.merge.concatenate`
    -> `keras.layers.concatenate`; `wrangle.array_split` -> `talos.utils.val_split` (the same function: Talos'
    val_split is wrangle's). Budget: epochs 150 -> 2, x[:60]. The example's Scan has no experiment_name (Talos 1.x
    requires one; here it defaults to 'talos_experiment')."""
    from keras.layers import Dense, Input, concatenate
    from keras.models import Model
    from keras.utils import plot_model  # noqa: F401 - as the example

    import knoblab.talos as talos

    x, y = talos.templates.datasets.iris()
    x, y = x[:60], y[:60]
    x_train, y_train, x_val, y_val = talos.utils.val_split(x, y, 0.5)

    def iris_multi(x_train, y_train, x_val, y_val, params):
        # the first side of the network
        first_input = Input(shape=(4,))
        first_hidden1 = Dense(params["left_neurons"], activation=params["activation"])(first_input)
        first_hidden2 = Dense(params["left_neurons"], activation=params["activation"])(first_hidden1)

        # the second side of the network
        second_input = Input(shape=(4,))
        second_hidden1 = Dense(params["right_neurons"], activation=params["activation"])(second_input)
        second_hidden2 = Dense(params["right_neurons"], activation=params["activation"])(second_hidden1)
        third_hidden2 = Dense(params["right_neurons"], activation=params["activation"])(second_hidden2)  # noqa: F841

        # merging the two networks
        merged = concatenate([first_hidden2, first_hidden2])

        # creating the output
        output = Dense(3, activation="softmax")(merged)

        # put the model together, compile and fit
        model = Model(inputs=[first_input, second_input], outputs=output)
        model.compile("adam", "binary_crossentropy", metrics=["acc", talos.utils.metrics.f1score])

        out = model.fit(
            x=[x_train, x_train],
            y=y_train,
            validation_data=[[x_val, x_val], y_val],
            epochs=2,
            batch_size=params["batch_size"],
            verbose=0,
        )

        return out, model

    p = {"activation": ["relu", "elu"], "left_neurons": [10, 20, 30], "right_neurons": [10, 20, 30], "batch_size": [15]}

    scan_object = talos.Scan(x=x_train, y=y_train, x_val=x_val, y_val=y_val, params=p, model=iris_multi)

    assert len(scan_object.data) == 18 and (scan_object.data["state"] == "COMPLETE").all()


@pytest.mark.slow
def test_multiple_outputs():
    """Examples_Multiple_Outputs_Code.md. Keras 3: `tensorflow.keras` -> `keras`; `wrangle.array_split` ->
    `talos.utils.val_split`. Budget: epochs 150 -> 2, batch_size [15, 20, 25] -> [25]. No experiment_name, as the
    example (see test_multiple_inputs)."""
    from keras.layers import Dense, Input
    from keras.models import Model

    import knoblab.talos as talos

    x, y = talos.templates.datasets.telco_churn()

    x_train, y1_train, x_val, y1_val = talos.utils.val_split(x, y[0], 0.3)
    x_train, y2_train, x_val, y2_val = talos.utils.val_split(x, y[1], 0.3)

    def telco_churn(x_train, y_train, x_val, y_val, params):
        # the second side of the network
        input_layer = Input(shape=(42,))
        hidden_layer1 = Dense(params["neurons"], activation=params["activation"])(input_layer)
        hidden_layer2 = Dense(params["neurons"], activation=params["activation"])(hidden_layer1)
        hidden_layer3 = Dense(params["neurons"], activation=params["activation"])(hidden_layer2)

        # creating the outputs
        output1 = Dense(1, activation="sigmoid", name="loss_function")(hidden_layer3)
        output2 = Dense(1, activation="sigmoid", name="f1_metric")(hidden_layer3)

        losses = {"loss_function": "binary_crossentropy", "f1_metric": "binary_crossentropy"}

        loss_weights = {"loss_function": 1.0, "f1_metric": 1.0}

        # put the model together, compile and fit
        model = Model(inputs=input_layer, outputs=[output1, output2])

        model.compile("adam", loss=losses, loss_weights=loss_weights, metrics=["acc", talos.utils.metrics.f1score])

        out = model.fit(
            x=x_train,
            y=y_train,
            validation_data=[x_val, y_val],
            epochs=2,
            batch_size=params["batch_size"],
            verbose=0,
        )

        return out, model

    p = {"activation": ["relu", "elu"], "neurons": [10, 20, 30], "batch_size": [25]}

    scan_object = talos.Scan(
        x=x_train, y=[y1_train, y2_train], x_val=x_val, y_val=[y1_val, y2_val], params=p, model=telco_churn
    )

    assert len(scan_object.data) == 6 and "val_f1_metric_f1score" in scan_object.data.columns


@pytest.mark.slow
def test_generator():
    """Examples_Generator_Code.md. The example cannot run in Talos either: it names `ta` (never imported) and feeds
    iris to a 28 x 28 image model, with no x_train; fixed here with the mnist template. Keras 3: `tensorflow.keras`
    -> `keras`; `fit_generator(..., workers=4)` -> `fit(...)` with `workers=4` given to the SequenceGenerator (a
    PyDataset, where Keras 3 takes it); `input_shape=` on Conv2D -> `Input((28, 28, 1))`. Budget: 300 rows, no
    experiment_name (see test_multiple_inputs)."""
    from keras.layers import Conv2D, Dense, Dropout, Flatten, Input
    from keras.models import Sequential

    import knoblab.talos as talos
    from knoblab.talos.utils import SequenceGenerator

    x_train, y_train, x_val, y_val = talos.templates.datasets.mnist()
    x_train, y_train, x_val, y_val = x_train[:300], y_train[:300], x_val[:100], y_val[:100]

    def mnist_model(x_train, y_train, x_val, y_val, params):
        model = Sequential()
        model.add(Input((28, 28, 1)))
        model.add(Conv2D(32, kernel_size=(3, 3), activation=params["activation"]))
        model.add(Flatten())
        model.add(Dense(128, activation=params["activation"]))
        model.add(Dropout(params["dropout"]))
        model.add(Dense(10, activation="softmax"))

        model.compile(
            optimizer=params["optimizer"], loss=params["losses"], metrics=["acc", talos.utils.metrics.f1score]
        )

        out = model.fit(
            SequenceGenerator(x_train, y_train, batch_size=params["batch_size"], workers=4),
            epochs=params["epochs"],
            validation_data=[x_val, y_val],
            callbacks=[],
            verbose=0,
        )

        return out, model

    p = {
        "activation": ["relu", "elu"],
        "optimizer": ["Adam"],
        "losses": ["LogCosh"],
        "shapes": ["brick"],
        "first_neuron": [32],
        "dropout": [0.2, 0.3],
        "batch_size": [64, 128, 256],
        "epochs": [1],
    }

    scan_object = talos.Scan(x=x_train, y=y_train, x_val=x_val, y_val=y_val, params=p, model=mnist_model)

    assert len(scan_object.data) == 12 and (scan_object.data["state"] == "COMPLETE").all()


def test_pytorch_is_refused_in_one_line():
    """Examples_PyTorch_Code.md: not supported. knoblab.talos runs Keras models; the example's model function
    returns a torch module and its parameters (and imports `torch_optimizer`, an autonomio helper not on PyPI under
    that import; torch.optim stands in). The scan stops at the first round with one line saying so."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from sklearn.metrics import f1_score

    import knoblab.talos as talos
    from knoblab.keras import ModelFunctionError

    x, y = talos.templates.datasets.breast_cancer()
    x = talos.utils.rescale_meanzero(x)
    x_train, y_train, x_val, y_val = talos.utils.val_split(x, y, 0.2)

    x_train = torch.from_numpy(x_train).float()
    y_train = torch.from_numpy(y_train).long()
    x_val = torch.from_numpy(x_val).float()
    y_val = torch.from_numpy(y_val).long()

    def breast_cancer(x_train, y_train, x_val, y_val, params):
        class BreastCancerNet(nn.Module, talos.utils.TorchHistory):
            def __init__(self, n_feature):
                super().__init__()
                self.hidden = torch.nn.Linear(n_feature, 8)
                self.out = torch.nn.Linear(8, 2)

            def forward(self, x):
                return self.out(F.relu(self.hidden(x)))

        net = BreastCancerNet(x_train.shape[1])
        loss_func = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
        net.init_history()
        for _epoch in range(params["epochs"]):
            optimizer.zero_grad()
            outputs = net(x_train)
            metric = f1_score(y_train.data, torch.max(outputs, 1)[1].data)
            loss = loss_func(outputs, y_train)
            loss.backward()
            optimizer.step()
            output_val = net(x_val)
            val_metric = f1_score(y_val.data, torch.max(output_val, 1)[1].data)
            net.append_loss(loss.item())
            net.append_metric(metric)
            net.append_val_loss(loss_func(output_val, y_val).item())
            net.append_val_metric(val_metric)
        return net, net.parameters()

    p = {
        "activation": ["relu", "elu"],
        "optimizer": ["Adagrad", "Adam"],
        "losses": ["LogCosh"],
        "hidden_layers": [0, 1, 2],
        "batch_size": (20, 50, 5),
        "epochs": [10, 20],
    }

    with pytest.raises(ModelFunctionError, match="knoblab.talos runs Keras models"):
        talos.Scan(
            x=x_train,
            y=y_train,
            x_val=x_val,
            y_val=y_val,
            params=p,
            model=breast_cancer,
            experiment_name="breast_cancer",
            round_limit=100,
        )


def test_automl_is_refused_in_one_line():
    """Examples_AutoML_Code.md: autom8 is not ported; AutoScan says so."""
    import knoblab.talos as talos

    x, y = talos.templates.datasets.cervical_cancer()
    with pytest.raises(NotImplementedError, match="knoblab.talos does not port Talos' autom8"):
        talos.autom8.AutoScan("binary", 5)
