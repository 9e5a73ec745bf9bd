"""Request ids and JSON log lines (project/logs.py): the id comes from the client or is made,
returns on every answer and is on every line logged while the request runs; the JSON lines carry
the masked subject and never a code, a token or a full address."""

import io
import json
import logging

import pytest

from project.logs import ContextFilter, JsonFormatter, logging_config, request_id, request_id_from, subject
from tests.api.conftest import EMAIL, assert_error

CODE = "480913"


@pytest.fixture
def json_lines():
    """Every line logged from here on, formatted as LOG_FORMAT=json formats it (outside any request
    or task: a service called directly by an earlier test may have named a subject)."""
    request_id.set("")
    subject.set("")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_clients_request_id_comes_back(api):
    response = api.get("/health/live/", HTTP_X_REQUEST_ID="lb-7f3a.9:01")

    assert response["X-Request-ID"] == "lb-7f3a.9:01"


@pytest.mark.parametrize("sent", [None, "", "two words", "a\nb", "x" * 129, "<script>"])
def test_a_missing_or_unusual_request_id_is_replaced_by_a_new_one(api, sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    response = api.get("/health/live/", **headers)

    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32
    int(response["X-Request-ID"], 16)


def test_each_request_gets_its_own_id(api):
    assert api.get("/health/live/")["X-Request-ID"] != api.get("/health/live/")["X-Request-ID"]


def test_error_answers_carry_the_request_id_too(api):
    not_found = api.get("/no-such-page/", HTTP_X_REQUEST_ID="r-404")
    bad = api.post("/user/signup/", {"email_phone_number": "nonsense"}, HTTP_X_REQUEST_ID="r-400")

    assert_error(not_found, 404, "not_found")
    assert not_found["X-Request-ID"] == "r-404"
    assert bad.status_code == 400
    assert bad["X-Request-ID"] == "r-400"


def test_every_line_of_a_sign_up_carries_its_request_id_and_masked_subject_and_no_secret(api, json_lines, next_codes):
    next_codes(CODE)
    response = api.post("/user/signup/", {"email_phone_number": EMAIL}, HTTP_X_REQUEST_ID="signup-1")
    assert response.status_code == 201
    token = response.json()["access"]

    lines = json_lines()
    assert lines, "a sign-up logs its queued delivery"
    assert {line["request_id"] for line in lines} == {"signup-1"}
    assert any(line.get("subject") == "j***@example.com" for line in lines)
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message", "request_id"}
        text = json.dumps(line)
        assert CODE not in text
        assert EMAIL not in text
        assert token not in text


def test_lines_outside_a_request_say_so(json_lines):
    logging.getLogger("tests").warning("housekeeping ran")

    [line] = json_lines()
    assert line["request_id"] == "-"
    assert line["message"] == "housekeeping ran"
    assert "subject" not in line


def test_a_json_line_holds_its_exception_on_one_line(json_lines):
    try:
        raise RuntimeError("broken\nacross lines")
    except RuntimeError:
        logging.getLogger("tests").exception("it failed")

    [line] = json_lines()
    assert line["level"] == "ERROR"
    assert "RuntimeError: broken" in line["exception"]


def test_the_setting_picks_the_format_and_refuses_others():
    assert logging_config(level="INFO", fmt="json")["handlers"]["console"]["formatter"] == "json"
    assert "%(request_id)s" in logging_config(level="INFO", fmt="plain")["formatters"]["plain"]["format"]
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(level="INFO", fmt="xml")


def test_a_made_request_id_is_random():
    assert request_id_from(None) != request_id_from(None)
