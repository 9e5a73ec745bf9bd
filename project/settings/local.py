"""Settings for `make run`: the embedded default on a developer's machine. Chosen explicitly by the
Makefile; everything a deployment runs defaults to production settings."""

from project.settings.base import *  # noqa: F403
from project.settings.base import signing_keys_settled

SECRET_KEY = signing_keys_settled(generate=True)
