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
