"""Port of Talos' tests/commands/test_lr_normalizer.py: unchanged but for `talos.` -> `knoblab.talos.` in the
imports, and an assertion where Talos printed whether the error was caught."""

import pytest


def test_lr_normalizer():
    """Test learning rate normalizer to confirm an invalid type is
    recognized and throws TalosModelError."""

    from knoblab.talos.model.normalizers import lr_normalizer
    from knoblab.talos.utils.exceptions import TalosModelError

    print("Testing lr_normalizer() and invalid optimizer type...")

    # Using string as proxy for any invalid class
    # (ex., tensorflow-sourced optimizer)
    bad_optimizer = "test"

    with pytest.raises(TalosModelError):
        lr_normalizer(1, bad_optimizer)
