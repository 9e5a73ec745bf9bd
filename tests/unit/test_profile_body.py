"""The profile body the views build directly is exactly what the schema's ProfileOutput says."""

import pytest

from tests.factories import PendingUserFactory, PhoneUserFactory, UserFactory
from users.serializers import ProfileOutput, profile_body


@pytest.mark.parametrize("factory", [UserFactory, PhoneUserFactory, PendingUserFactory])
def test_profile_body_is_the_profile_outputs_representation(db, factory):
    user = factory(first_name="Ada", bio="Counts everything.", gender="female")

    assert profile_body(user) == ProfileOutput(user).data
