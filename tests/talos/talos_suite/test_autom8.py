"""Talos' tests/commands/test_autom8.py: AutoParams, AutoScan, AutoModel and AutoPredict are not ported (the issue
leaves autom8 out); each says so in one line instead of running."""

import pytest


@pytest.mark.parametrize("name", ["AutoParams", "AutoScan", "AutoModel", "AutoPredict"])
def test_autom8(name):
    import knoblab.talos as talos

    with pytest.raises(NotImplementedError, match=f"talos.autom8.{name}: knoblab.talos does not port Talos' autom8"):
        getattr(talos.autom8, name)()
