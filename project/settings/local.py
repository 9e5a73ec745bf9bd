"""Settings for `make run`: the embedded default on a developer's machine."""

from project.settings.base import *  # noqa: F403
from project.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
