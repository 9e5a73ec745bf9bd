"""The login lookup as a Django authentication backend (``authenticate(request, user_input=...,
password=...)``): one login name, one password hash, whatever the outcome.

The name is a username, an e-mail address or a phone number (users.identifiers.login_name); an
unknown name is checked against a dummy hash so that it costs the same as a wrong password. The
stored hash is checked without Django's rehash-on-upgrade: a login never costs a second hash (an
outdated hash is replaced at the account's next password change)."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest

from users.identifiers import LoginName, login_name
from users.models import AuthStatus, User

# Hashed once per process; unknown names are checked against it.
_dummy_hash: str | None = None


def dummy_hash() -> str:
    """The hash an unknown login name is checked against, made with the current hasher on first
    use. The WSGI entry point makes it at start-up, so that no request pays for it: the first
    unknown name a process sees then costs one hash, like every later one."""
    global _dummy_hash
    _dummy_hash = _dummy_hash or make_password("not the password")
    return _dummy_hash


def login_candidate(name: LoginName) -> User | None:
    """The one account a login name designates (usernames can be neither an e-mail address nor a
    phone number, so the three never shadow each other). A username is looked up by its key, so a
    look-alike spelling reaches the one account it collides with."""
    lookup = {"email": "email", "phone": "phone_number", "username": "username_key"}[name.kind]
    return User.objects.filter(**{lookup: name.value}).first()


class LoginNameBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, user_input: str | None = None, password: str | None = None, **kwargs
    ) -> User | None:
        if user_input is None or password is None:
            return None
        user = login_candidate(login_name(user_input))
        if user is None:
            check_password(password, dummy_hash())
            return None
        if not check_password(password, user.password):  # no setter: no rehash, no second hash
            return None
        if not self.user_can_authenticate(user) or user.auth_status != AuthStatus.DONE:
            return None
        return user
