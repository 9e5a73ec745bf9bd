"""GET /api/schema/ (OpenAPI 3 from drf-spectacular); the pages that show it are in test_docs.py."""

import pytest

USER_PATHS = {
    "/user/signup/": "post",
    "/user/verify/": "post",
    "/user/new-verify/": "get",
    "/user/change-user-info/": "patch",
    "/user/login/": "post",
    "/user/logout/": "post",
    "/user/login-refresh/": "post",
}


@pytest.fixture
def schema(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content
    return response.json()


def test_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]


def test_schema_is_served_as_yaml_by_default(api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def test_schema_has_all_seven_user_endpoints(schema):
    assert set(USER_PATHS) <= set(schema["paths"])
    for path, method in USER_PATHS.items():
        assert method in schema["paths"][path], path


@pytest.mark.parametrize(("path", "method"), USER_PATHS.items())
def test_every_endpoint_documents_success_and_error_bodies(schema, path, method):
    responses = schema["paths"][path][method]["responses"]
    success = next(code for code in responses if code.startswith("2"))
    errors = [code for code in responses if code.startswith("4")]

    assert "content" in responses[success]
    assert errors, responses
    for code in errors:
        ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorOutput")


def test_error_shape_is_a_documented_component(schema):
    error = schema["components"]["schemas"]["ErrorOutput"]

    assert set(error["properties"]) == {"detail", "code", "fields"}


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, m in USER_PATHS.items() if m != "get"])
def test_every_endpoint_with_a_body_documents_its_request(schema, path, method):
    assert "requestBody" in schema["paths"][path][method]


def test_the_optional_challenge_is_documented_for_sign_up_and_resend(schema):
    signup_body = schema["paths"]["/user/signup/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = signup_body["$ref"].rsplit("/", 1)[-1]
    fields = schema["components"]["schemas"][name]
    resend = schema["paths"]["/user/new-verify/"]["get"]

    assert "challenge" in fields["properties"]
    assert "challenge" not in fields.get("required", [])
    headers = [p for p in resend.get("parameters", []) if p["in"] == "header"]
    assert [(p["name"], p.get("required", False)) for p in headers] == [("X-Challenge", False)]
    assert "400" in resend["responses"]
