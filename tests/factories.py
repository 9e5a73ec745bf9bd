"""factory-boy factories for accounts in each sign-up state."""

import factory
import phonenumbers
from django.contrib.auth.hashers import make_password
from phonenumbers import PhoneNumberType

from users.models import AuthStatus, AuthType, User

PASSWORD = "Corr3ct-Horse-Battery"
_SMS_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


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


def sms_numbers(count: int) -> list[str]:
    """``count`` distinct, valid US numbers that can receive SMS, each in its own range (no two
    equal but for their last three digits), so that the sms_prefix rule never groups them."""
    numbers: list[str] = []
    for area in range(201, 990):
        for exchange in range(201, 1000, 13):
            candidate = f"+1{area}{exchange}{len(numbers) % 10}{area % 1000:03d}"
            parsed = phonenumbers.parse(candidate)
            if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in _SMS_TYPES:
                numbers.append(candidate)
                if len(numbers) == count:
                    return numbers
    raise ValueError(f"only {len(numbers)} numbers found")


def session_tokens(user: User) -> dict[str, str]:
    """The access and refresh tokens of a new session of ``user``, as a login would start it."""
    from users.services.sessions import ClientInfo, session_start

    return session_start(user=user, method="password", client=ClientInfo(user_agent="tests", client="203.0.113.x"))
