"""Shared fixtures for the data tests."""

import os

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def repo_root() -> str:
    """The repository root (subprocesses run `python -m tasks....` from there)."""
    return REPO_ROOT
