"""Verifies a Standard Webhooks request with the `standardwebhooks` library."""

from harness import run

# receiver snippet begin
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verify(secret: str, headers: dict, body: bytes) -> None:
    """Raises unless a `v1` entry matches and the timestamp is within 5 minutes."""
    Webhook(secret).verify(body, headers)
# receiver snippet end


# ValueError: the library's own reaction to a signature list it cannot split.
run(lambda r: verify(r["secret"], r["headers"], r["body"]), (WebhookVerificationError, ValueError))
