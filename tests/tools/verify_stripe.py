"""Verifies a Stripe request with the `stripe` library."""

from harness import run

# receiver snippet begin
import stripe


def verify(secret: str, headers: dict, body: bytes) -> None:
    """Raises unless a `v1` matches and the timestamp is at most 5 minutes old."""
    signature = headers.get("stripe-signature")
    stripe.WebhookSignature.verify_header(body, signature, secret, tolerance=300)
# receiver snippet end


run(lambda r: verify(r["secret"], r["headers"], r["body"]), (stripe.SignatureVerificationError,))
