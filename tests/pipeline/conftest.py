"""Fixtures shared with other test packages: the loopback webhook server of tests/actions."""

from tests.actions.test_webhook import hook

__all__ = ["hook"]
