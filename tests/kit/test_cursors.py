"""kit/cursors.py without HTTP: keysets round-trip, tokens are URL-safe, and every token a list
did not hand out is one 400 with that list's own error body."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kit.cursors import InvalidCursor, KeysetCursor
from kit.errors import InvalidParameter

CURSOR = KeysetCursor()
AT = datetime(2026, 11, 30, 12, 0, 1, 123456, tzinfo=timezone(timedelta(hours=1)))
ID = uuid.UUID("0b7e8a52-0d6c-4f51-9d7e-2d4f5f6a7b8c")


def raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_keyset_round_trips_with_its_types() -> None:
    keyset = ("newest", 42, 2.5, AT, ID)
    token = CURSOR.encode(keyset)
    assert CURSOR.decode(token, (str, int, float, datetime, uuid.UUID)) == keyset
    assert CURSOR.decode(token, (str, int, float, datetime, uuid.UUID))[3].utcoffset() == (
        timedelta(hours=1)
    )


def test_tokens_are_url_safe_and_unpadded() -> None:
    for n in range(20):
        token = CURSOR.encode(("x" * n, "\u00e9\u00ff?&/+", n))
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert CURSOR.decode(token, (str, str, int)) == ("x" * n, "\u00e9\u00ff?&/+", n)


def test_padding_is_optional_when_decoding() -> None:
    token = CURSOR.encode(("ab",))
    padded = token + "=" * (-len(token) % 4)
    assert CURSOR.decode(padded, (str,)) == CURSOR.decode(token, (str,)) == ("ab",)


def test_a_whole_float_comes_back_as_a_float() -> None:
    assert CURSOR.decode(CURSOR.encode((3.0,)), (float,)) == (3.0,)
    assert isinstance(CURSOR.decode(raw("[3]"), (float,))[0], float)


@pytest.mark.parametrize(
    ("token", "shape"),
    [
        ("", (str,)),
        ("a", (str,)),
        ("not base64 at all!", (str,)),
        ("bm9wZQ", (str,)),  # "nope": not JSON
        (raw('"alone"'), (str,)),  # not a list
        (raw('["a", "b"]'), (str,)),  # too long
        (raw('["a"]'), (str, int)),  # too short
        (raw('["a"]'), (int,)),
        (raw("[true]"), (int,)),  # a bool is no count
        (raw("[true]"), (float,)),
        (raw("[1.5]"), (int,)),
        (raw('["1"]'), (int,)),
        (raw("[1]"), (str,)),
        (raw('["yesterday"]'), (datetime,)),
        (raw("[12]"), (datetime,)),
        (raw('["nope"]'), (uuid.UUID,)),
        (raw("[NaN]"), (float,)),
        (raw("[" + "9" * 100 + "]"), (int,)),
        (raw("[" * 3000), (str,)),
        ("\u00e9\u00e9\u00e9\u00e9", (str,)),  # not ASCII
    ],
)
def test_a_token_this_list_did_not_hand_out_is_one_400(token: str, shape: tuple[type]) -> None:
    with pytest.raises(InvalidCursor) as caught:
        CURSOR.decode(token, shape)
    error = caught.value
    assert isinstance(error, InvalidParameter)
    assert (error.status_code, error.code) == (400, "invalid_cursor")
    assert error.details == [
        {
            "location": ["query", "cursor"],
            "parameter": "cursor",
            "message": "the cursor is not one this list handed out",
        }
    ]


def test_a_list_keeps_its_own_parameter_code_and_message() -> None:
    journal = KeysetCursor(message="the cursor is not one this API gave out", code="bad_cursor")
    with pytest.raises(InvalidCursor) as caught:
        journal.decode("bm9wZQ", (datetime, uuid.UUID))
    assert (caught.value.code, caught.value.message) == (
        "bad_cursor",
        "the cursor is not one this API gave out",
    )
    assert caught.value.details[0]["parameter"] == "cursor"

    page = KeysetCursor(parameter="after")
    assert page.refuse().details[0]["location"] == ["query", "after"]


def test_a_list_may_keep_details_that_predate_the_helper() -> None:
    details = [{"location": ["query", "more"], "message": "unknown token", "type": "more"}]
    more = KeysetCursor(
        parameter="more",
        message="more: the more link is not one this LRS handed out",
        code="invalid_request",
        details=details,
    )
    first, second = more.refuse(), more.refuse()
    assert (first.code, first.details) == ("invalid_request", details)
    first.details[0]["message"] = "changed"
    assert second.details == details  # each error owns its body


def test_a_json_state_round_trips_and_its_keyset_is_checked() -> None:
    state = {"q": {"verb": "x:y", "limit": 10}, "after": [AT.isoformat(), str(ID)]}
    token = CURSOR.encode_json(state)
    decoded = CURSOR.decode_json(token)
    assert decoded == state
    assert CURSOR.check(decoded["after"], (datetime, uuid.UUID)) == (AT, ID)
    with pytest.raises(InvalidCursor):
        CURSOR.check(decoded["q"], (datetime, uuid.UUID))
    assert json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == state


def test_encoding_refuses_what_a_cursor_cannot_hold() -> None:
    with pytest.raises(TypeError):
        CURSOR.encode((object(),))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CURSOR.encode((float("nan"),))


def test_the_utc_offset_survives_and_a_moment_without_one_is_refused() -> None:
    """Found by review: an edited `after` with a naive moment reached the UTC column as a 500."""
    aware = datetime(2026, 1, 1, 8, 30, tzinfo=UTC)
    assert CURSOR.decode(CURSOR.encode((aware,)), (datetime,))[0].tzinfo is not None
    edited = CURSOR.encode_json(["2026-01-01T08:30:00"])
    with pytest.raises(InvalidCursor):
        CURSOR.decode(edited, (datetime,))
