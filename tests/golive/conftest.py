"""The fake Twilio account of the connect tests, shared by the going-live tests."""

from tests.ops.test_twilio_connect import account  # noqa: F401  (a fixture)
