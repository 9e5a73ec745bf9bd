import logging

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from users import schema  # noqa: F401 - registers the OpenAPI extensions

        if settings.TEST_IDENTIFIERS:
            logging.getLogger(__name__).warning(
                "TEST_IDENTIFIERS is on: %d identifiers get a fixed code and no message", len(settings.TEST_IDENTIFIERS)
            )
