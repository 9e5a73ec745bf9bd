import json

from tests.factories import PASSWORD


def test_seed_flow_by_email(api, email_code):
    r = api.post("/user/signup/", {"email_phone_number": "Jone@Example.com"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["auth_type"] == "via_email"
    token = r.json()["access"]
    r = api.bearer(token).post("/user/verify/", json.dumps({"code": email_code()}), content_type="application/json")
    assert r.status_code == 200, r.content
    verified = r.json()["access"]
    r = api.bearer(verified).patch(
        "/user/change-user-info/",
        {"fistname": "jone", "username": "jone123", "password": PASSWORD, "confirm_password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.content
    r = api.bearer(None).post("/user/login/", {"user_input": "jone123", "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
