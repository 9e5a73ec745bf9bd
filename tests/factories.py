"""factory-boy factories for accounts in each sign-up state."""

import factory
from django.contrib.auth.hashers import make_password

from users.models import AuthStatus, AuthType, User

PASSWORD = "Corr3ct-Horse-Battery"


class UserFactory(factory.django.DjangoModelFactory):
    """A finished account that can log in with PASSWORD."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    auth_type = AuthType.EMAIL
    auth_status = AuthStatus.DONE
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


class PendingUserFactory(UserFactory):
    """A sign-up that has not been verified yet."""

    username = None
    auth_status = AuthStatus.NEW
    password = factory.LazyFunction(lambda: make_password(None))


class PhoneUserFactory(UserFactory):
    email = None
    phone_number = factory.Sequence(lambda n: f"+1202555{n:04d}")
    auth_type = AuthType.PHONE
