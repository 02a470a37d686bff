"""`hidden_layers(model, params, last_neuron)`: a number of Dense + Dropout layers as a knob, shaped by `shapes`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..exceptions import TalosParamsError

__all__ = ["hidden_layers", "network_shape"]

_REQUIRED = ("shapes", "first_neuron", "dropout", "hidden_layers", "activation")


def network_shape(params: Mapping[str, Any], last_neuron: int) -> list[int]:
    """The width of each hidden layer: 'brick' (all first_neuron), 'funnel' (an even step down towards
    last_neuron), 'triangle' (a linspace between them), or a float: each layer (1 - shape) times the previous,
    never below last_neuron."""
    layers = params["hidden_layers"]
    shape = params["shapes"]
    first_neuron = params["first_neuron"]
    if layers == 0:
        return [0]
    if isinstance(shape, float):
        out, n = [], first_neuron
        for _ in range(layers):
            n *= 1 - shape
            out.append(int(n) if n > last_neuron else last_neuron)
        return out
    if shape == "brick":
        return [first_neuron] * layers
    if shape == "funnel":
        step = int((first_neuron - last_neuron) / layers)
        return [first_neuron - step * (i + 1) for i in range(layers)]
    if shape == "triangle":
        out = np.linspace(first_neuron, last_neuron, layers + 2, dtype=int).tolist()
        return list(reversed(out[1:-1]))
    raise TalosParamsError(f"params 'shapes': got {shape!r}; give a float or one of 'funnel', 'brick', 'triangle'")


def hidden_layers(model: Any, params: Mapping[str, Any], last_neuron: int) -> None:
    """Adds params['hidden_layers'] Dense layers (each followed by Dropout(params['dropout'])) to a Sequential
    model, their widths from `network_shape`; initializers, regularizers and constraints come from params when
    given ('kernel_initializer', 'kernel_regularizer', ...)."""
    import keras

    for name in _REQUIRED:
        if name not in params:
            raise TalosParamsError(f"hidden_layers requires {name!r} in params; it has {sorted(params)}")
    widths = network_shape(params, last_neuron)
    for i in range(params["hidden_layers"]):
        model.add(
            keras.layers.Dense(
                widths[i],
                kernel_initializer=params.get("kernel_initializer", "glorot_uniform"),
                kernel_regularizer=params.get("kernel_regularizer"),
                bias_initializer=params.get("bias_initializer", "zeros"),
                bias_regularizer=params.get("bias_regularizer"),
                use_bias=params.get("use_bias", True),
                activity_regularizer=params.get("activity_regularizer"),
                kernel_constraint=params.get("kernel_constraint"),
                bias_constraint=params.get("bias_constraint"),
                activation=params.get("activation"),
            )
        )
        model.add(keras.layers.Dropout(params["dropout"]))
