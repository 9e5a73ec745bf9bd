"""The password hasher: Argon2id with its cost read from settings (ARGON2_TIME_COST,
ARGON2_MEMORY_COST, ARGON2_PARALLELISM), so that a deployment can tune what one hash costs.

One lane (parallelism 1) by default: a hash then takes one core, so concurrent logins on a
multi-core server each run at the speed of one hash alone instead of contending for lanes. The
hashes it makes are Django's "argon2" ones, each carrying its own parameters: changing the settings
never breaks existing hashes (they are upgraded at the next password change, never on a login, so
that a login costs exactly one hash)."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    @property
    def time_cost(self) -> int:
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:
        return settings.ARGON2_MEMORY_COST

    @property
    def parallelism(self) -> int:
        return settings.ARGON2_PARALLELISM
