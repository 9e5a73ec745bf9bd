"""One canonical form for identifiers (users/canonical.py): usernames unique by their look-alike key
instead of lower(), e-mail addresses stored in canonical form.

Existing rows get their key and canonical address here. Accounts that the new rules make one (two
usernames that look alike, two spellings of one address) or an address with no canonical form
stop the migration with their ids, so that nobody's account is merged or renamed behind their
back (so does a username whose key is over the key column's length): resolve them in the admin,
then migrate again.
"""

from collections import defaultdict

from django.db import migrations, models

import users.canonical
from users.canonical import USERNAME_KEY_MAX_LENGTH, normalize_email, normalize_username, username_key


def _conflicts(label: str, owners: dict[str, list]) -> list[str]:
    return [f"{label}: accounts {', '.join(map(str, pks))}" for pks in owners.values() if len(pks) > 1]


def canonicalize_identity(apps, schema_editor) -> None:
    User = apps.get_model("users", "User")
    rows = list(User.objects.values_list("pk", "username", "email"))
    canonical, problems = {}, []
    keys, emails = defaultdict(list), defaultdict(list)
    for pk, username, email in rows:
        username = normalize_username(username) if username else None
        key = username_key(username) if username else None
        if key and len(key) > USERNAME_KEY_MAX_LENGTH:
            problems.append(f"a username whose key is too long: account {pk}")
        if email:
            canonical_email = normalize_email(email)
            if canonical_email is None:
                problems.append(f"an e-mail address with no canonical form: account {pk}")
            email = canonical_email
        canonical[pk] = {"username": username, "username_key": key, "email": email or None}
        if key:
            keys[key].append(pk)
        if email:
            emails[email].append(pk)
    problems += _conflicts("usernames that look alike", keys) + _conflicts("one e-mail address", emails)
    if problems:
        raise RuntimeError(
            "Accounts the canonical identifier rules would make one; resolve them (rename, change the "
            "address, or delete an abandoned sign-up), then migrate again:\n" + "\n".join(problems)
        )
    for pk, fields in canonical.items():
        User.objects.filter(pk=pk).update(**fields)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.CharField(blank=True, editable=False, max_length=600, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(
                blank=True,
                max_length=254,
                null=True,
                unique=True,
                validators=[users.canonical.validate_email_address],
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                blank=True,
                max_length=150,
                null=True,
                unique=True,
                validators=[users.canonical.validate_username],
            ),
        ),
        migrations.RemoveConstraint(
            model_name="user",
            name="users_user_username_ci_unique",
        ),
        migrations.RunPython(canonicalize_identity, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("username__isnull", True), ("username_key__isnull", False), _connector="OR"),
                name="users_user_username_has_key",
            ),
        ),
    ]
