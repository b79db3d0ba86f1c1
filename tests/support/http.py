"""httpx's request functions for tests that talk to real processes, with the test deadline as
their timeout instead of httpx's 5 s: a busy machine answers slowly, not wrongly."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.waiting import HTTP_TIMEOUT


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.request` with `timeout` defaulting to the test deadline."""
    kwargs.setdefault("timeout", HTTP_TIMEOUT)
    return httpx.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """GET `url` (see `request`)."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """POST to `url` (see `request`)."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    """PUT to `url` (see `request`)."""
    return request("PUT", url, **kwargs)


def delete(url: str, **kwargs: Any) -> httpx.Response:
    """DELETE `url` (see `request`)."""
    return request("DELETE", url, **kwargs)
