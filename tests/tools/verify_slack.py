"""Verifies a Slack request with `slack_sdk`'s SignatureVerifier."""

from harness import run

# receiver snippet begin
from slack_sdk.signature import SignatureVerifier


def verify(signing_secret: str, headers: dict, body: bytes) -> bool:
    """True if `v0` matches and the timestamp is within 5 minutes."""
    return SignatureVerifier(signing_secret).is_valid_request(body, headers)
# receiver snippet end


# ValueError: the library's own reaction to a timestamp that is not an integer.
run(lambda r: verify(r["secret"], r["headers"], r["body"]), (ValueError,))
