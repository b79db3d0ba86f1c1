"""kit.http.url_path: a value is always exactly one path segment."""

from __future__ import annotations

import uuid

import httpx
import pytest

from kit.http import UnsafePathSegment, url_path


@pytest.mark.parametrize(
    "value", ["../my-data?x=", "a/b", "%2e%2e%2f", "?", "#", "a\u0001", "..%2fmetrics", " x"]
)
def test_a_value_stays_one_segment_after_url_normalisation(value: str) -> None:
    path = url_path("/v1/ideas/{id}/support", id=value)
    url = httpx.URL(f"http://ideas{path}")  # httpx normalises dot segments when it parses
    assert url.query == b"" and url.fragment == ""
    segments = url.raw_path.decode().split("/")
    assert segments[:3] == ["", "v1", "ideas"] and segments[4:] == ["support"]
    assert httpx.URL(f"http://x/{segments[3]}").path == f"/{value}"  # decodes back to the value


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_segments_that_normalisation_would_collapse_are_refused(value: str) -> None:
    with pytest.raises(UnsafePathSegment):
        url_path("/v1/ideas/{id}", id=value)


def test_a_uuid_is_written_as_is() -> None:
    value = uuid.uuid4()
    assert url_path("/v1/ideas/{id}", id=value) == f"/v1/ideas/{value}"
