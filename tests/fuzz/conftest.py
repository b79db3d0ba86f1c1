"""The gateway in front of real ideas and reflection services (tests/gateway/conftest.py)."""

from tests.gateway.conftest import gateway_overrides, services, stack  # noqa: F401
