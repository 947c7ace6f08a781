"""Encryption of secure transfers: AES-256-GCM, streamed in chunks. No Django here.

(The helper writing this module replaces this placeholder; `decode_key` is its
first part, used by the settings to refuse a malformed master key.)
"""

from __future__ import annotations

import base64
import binascii

KEY_BYTES = 32


def decode_key(text: str) -> bytes:
    """The 32-byte key written in `text` as base64 (standard or URL-safe alphabet).

    Raises ValueError saying what is wrong: never a silently shortened key.
    """
    normalised = text.strip().replace("-", "+").replace("_", "/")
    normalised += "=" * (-len(normalised) % 4)
    try:
        key = base64.b64decode(normalised, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key must be written in base64.") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"the key must be {KEY_BYTES} bytes; this one is {len(key)}.")
    return key
