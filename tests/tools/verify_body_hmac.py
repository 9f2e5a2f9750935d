"""Verifies the body-only HMAC schemes (shopify, calcom) with Python's standard library: the
snippets README.md shows. The request's "scheme" picks the check."""

from harness import run

# receiver snippet begin
import base64
import hashlib
import hmac


def verify_shopify(secret: str, headers: dict, body: bytes) -> bool:
    """Base64 HMAC-SHA256 of the body; drop repeats by x-shopify-event-id."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    return hmac.compare_digest(expected, headers.get("x-shopify-hmac-sha256", ""))


def verify_calcom(secret: str, headers: dict, body: bytes) -> bool:
    """Hex HMAC-SHA256 of the body, no prefix."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-cal-signature-256", ""))
# receiver snippet end


CHECKS = {"shopify": verify_shopify, "calcom": verify_calcom}
run(lambda r: CHECKS[r["scheme"]](r["secret"], r["headers"], r["body"]))
