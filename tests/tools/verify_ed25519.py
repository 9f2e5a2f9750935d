"""Verifies Standard Webhooks `v1a` (Ed25519) entries with the `cryptography` library, an
implementation independent of hookseal's."""

from harness import run

# receiver snippet begin
import base64
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def verify(public_key: str, headers: dict, body: bytes) -> None:
    """Raises unless a `v1a` entry matches and the timestamp is within 5 minutes."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        raise ValueError("timestamp is more than 5 minutes away")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1a":
            try:
                return key.verify(base64.b64decode(signature), signed)
            except InvalidSignature:
                pass
    raise InvalidSignature("no v1a entry matches")
# receiver snippet end


# KeyError: a missing header; ValueError: a malformed timestamp or base64.
run(lambda r: verify(r["secret"], r["headers"], r["body"]), (InvalidSignature, ValueError, KeyError))
