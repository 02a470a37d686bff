"""Talos' template params dicts, with Keras 3's optimizers (keras.optimizers; Talos used the TensorFlow 2
`optimizers.legacy` ones, gone from Keras 3) and activations as objects, as Talos writes them."""

from __future__ import annotations

from typing import Any

__all__ = ["titanic", "iris", "breast_cancer", "cervical_cancer"]


def titanic(debug: bool = False) -> dict[str, Any]:
    """For templates.models.titanic; `debug=True` gives a small grid of lists."""
    from keras.optimizers import Adagrad, Adam

    if debug:
        return {
            "lr": [0.1, 0.2],
            "first_neuron": [4, 8],
            "batch_size": [20, 30],
            "dropout": [0.2, 0.3],
            "optimizer": [Adam(), Adagrad()],
            "epochs": [50, 100],
            "losses": ["LogCosh", "binary_crossentropy"],
            "shapes": ["brick", "triangle", 0.2],
            "hidden_layers": [0, 1],
            "activation": ["relu", "elu"],
            "last_activation": ["sigmoid"],
        }
    return {
        "lr": (0.5, 5, 10),
        "first_neuron": [4, 8, 16],
        "batch_size": [20, 30, 40],
        "dropout": (0, 0.5, 5),
        "optimizer": [Adam(), Adagrad()],
        "epochs": [50, 100, 150],
        "losses": ["LogCosh", "binary_crossentropy"],
        "shapes": ["brick", "triangle", 0.2],
        "hidden_layers": [0, 1, 2, 3, 4],
        "activation": ["relu", "elu"],
        "last_activation": ["sigmoid"],
    }


def iris() -> dict[str, Any]:
    """For templates.models.iris."""
    from keras.activations import elu, relu, softmax
    from keras.optimizers import Adagrad, Adam

    return {
        "lr": (0.5, 5, 10),
        "first_neuron": [4, 8, 16, 32, 64],
        "hidden_layers": [0, 1, 2, 3, 4],
        "batch_size": (2, 30, 10),
        "epochs": [50, 100, 150],
        "dropout": (0, 0.5, 5),
        "weight_regulizer": [None],
        "emb_output_dims": [None],
        "shapes": ["brick", "triangle", 0.2],
        "optimizer": [Adam, Adagrad],
        "losses": ["LogCosh", "categorical_crossentropy"],
        "activation": [relu, elu],
        "last_activation": [softmax],
    }


def breast_cancer() -> dict[str, Any]:
    """For templates.models.breast_cancer (and cervical_cancer)."""
    from keras.activations import elu, relu, sigmoid
    from keras.optimizers import Adagrad, Adam, RMSprop

    return {
        "lr": (0.5, 5, 10),
        "first_neuron": [4, 8, 16, 32, 64],
        "hidden_layers": [0, 1, 2],
        "batch_size": (2, 30, 10),
        "epochs": [50, 100, 150],
        "dropout": (0, 0.5, 5),
        "shapes": ["brick", "triangle", "funnel"],
        "optimizer": [Adam, Adagrad, RMSprop],
        "losses": ["LogCosh", "binary_crossentropy"],
        "activation": [relu, elu],
        "last_activation": [sigmoid],
    }


def cervical_cancer() -> dict[str, Any]:
    """For templates.models.cervical_cancer: breast_cancer's."""
    return breast_cancer()
