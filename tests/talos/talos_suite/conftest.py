"""Talos' own test suite (autonomio/talos tests/commands/*.py), ported: each file says at its top what changed.

test-ci.py runs test_scan() first and hands its scan_object to test_analyze and test_rest; here the session fixture
`scan_object` runs the ported test_scan once, in a folder of its own, and the tests that need its result share it.
"""

import os

import pytest


@pytest.fixture(scope="session")
def scan_object(tmp_path_factory):
    from .test_scan import talos_test_scan

    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("test_scan"))
    try:
        yield talos_test_scan()
    finally:
        os.chdir(here)


@pytest.fixture(autouse=True)
def _gpu_settings_stay_here(monkeypatch):
    """Talos' force_cpu() sets CUDA_VISIBLE_DEVICES="" for the whole process (as Talos does): undone after each
    test, so later tests (Ray's GPU mapping) see the environment they started with."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", os.environ["CUDA_VISIBLE_DEVICES"])
    else:  # recorded as absent (set, then removed): the teardown removes whatever the test sets
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
