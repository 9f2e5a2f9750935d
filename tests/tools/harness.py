"""Shared by the Python verification scripts.

Reads one request as JSON from stdin: {"secret", "headers" (lower-case names), "body_base64",
"url"}. Runs the script's check and exits 0 if the library accepted the request, 1 if it
rejected it, and 3 if the script itself failed (so a broken install never looks like a
rejection).
"""

import base64
import json
import sys
import traceback


def run(check, rejections=()):
    """Runs check(request) -> bool | None; False or an exception in rejections is a rejection."""
    try:
        request = json.load(sys.stdin)
        request["body"] = base64.b64decode(request["body_base64"])
    except Exception:
        traceback.print_exc()
        sys.exit(3)
    try:
        accepted = check(request)
    except rejections as err:
        print(f"rejected: {type(err).__name__}: {err}")
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        sys.exit(3)
    if accepted is False:
        print("rejected")
        sys.exit(1)
    print("accepted")
    sys.exit(0)
