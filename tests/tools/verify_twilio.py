"""Verifies a Twilio request with the `twilio` library's RequestValidator."""

from harness import run

# receiver snippet begin
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator


def verify(auth_token: str, url: str, headers: dict, body: bytes) -> bool:
    """Form bodies are checked with their parameters, others against the url's bodySHA256."""
    signature = headers.get("x-twilio-signature", "")
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    else:
        params = body.decode()
    return RequestValidator(auth_token).validate(url, params, signature)
# receiver snippet end


run(lambda r: verify(r["secret"], r["url"], r["headers"], r["body"]))
