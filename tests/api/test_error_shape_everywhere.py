"""No request, on any path, gets HTML, a URL list or a traceback: a bad Host header, an unknown
URL, a wrong method and a crash all answer in the one JSON error shape, with DEBUG off (the
default everywhere) and with DEBUG turned on."""

import pytest
from django.urls import path

from tests.api.conftest import assert_error

SECRET_SETTING_WORDS = ("REDIS", "DATABASE", "BROKER", "SECRET", "Traceback", "<html", "urlpatterns", "user/")


def crash(request):
    raise RuntimeError("boom: this must never reach a client")


urlpatterns = [path("crash/", crash)]


@pytest.fixture(params=[False, True], ids=["debug off", "debug on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def client_(api):
    api.raise_request_exception = False
    return api


def assert_nothing_leaks(response) -> None:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    text = response.content.decode()
    for word in SECRET_SETTING_WORDS:
        assert word not in text, (word, text[:500])


@pytest.mark.parametrize("url", ["/user/signup/", "/user/me/", "/api/schema/", "/", "/nonexistent/", "/admin/"])
def test_a_host_that_is_not_allowed_gets_a_json_400(client_, debug, url):
    response = client_.get(url, HTTP_HOST="evil.example")

    assert_error(response, 400, "bad_request")
    assert_nothing_leaks(response)


@pytest.mark.parametrize("url", ["/nonexistent/", "/user/nonexistent/", "/static/nonexistent.css", "/admin/users/x/"])
def test_an_unknown_url_gets_a_json_404_without_the_url_list(client_, debug, url):
    response = client_.get(url)

    assert response.status_code in (404, 302)  # the admin sends anonymous visitors to its log-in
    if response.status_code == 404:
        assert_error(response, 404, "not_found")
        assert_nothing_leaks(response)


def test_a_wrong_method_gets_a_json_405(client_, debug):
    response = client_.delete("/user/signup/")

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_a_crash_gets_a_json_500_without_a_traceback(client_, debug, settings):
    settings.ROOT_URLCONF = __name__

    response = client_.get("/crash/")

    assert_error(response, 500, "server_error")
    assert_nothing_leaks(response)
    assert "boom" not in response.content.decode()


def test_a_csrf_failure_on_a_page_gets_json(client_, debug):
    client_.handler.enforce_csrf_checks = True

    response = client_.post(
        "/admin/login/", {"username": "x", "password": "y"}, content_type="application/x-www-form-urlencoded"
    )

    assert_error(response, 403, "permission_denied")
    assert_nothing_leaks(response)
