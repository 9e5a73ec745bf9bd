"""Fixtures of the unit tests."""

import importlib

import pytest

from project.settings import base


@pytest.fixture
def reloaded(monkeypatch):
    """``reloaded(NAME=value, ...)``: the base settings module read again with that environment
    (and no CELERY_BROKER_URL), put back as it was after the test."""

    def _reload(**env: str):
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(base)

    yield _reload
    monkeypatch.undo()
    importlib.reload(base)
