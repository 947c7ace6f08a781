"""Reading the pseudonymisation key: from a key file or the environment, never from a plan.

Appendix A step 2 of the information sharing policy prefers pseudonymised data
to personal data; a pseudonym is only as safe as its key. The key links the
exports made under one agreement, so it is kept apart from the plan (which is
shared and versioned) and from the data: it is read from a file the school
keeps (`--key-file`) or from `INFOSHARE_ANONYMISE_KEY`. Design rule 10: no
Django here, so scripts and the benchmark can use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENVIRONMENT_VARIABLE = "INFOSHARE_ANONYMISE_KEY"
# 128 bits: a shorter key could be guessed, and with it every pseudonym reversed
# by hashing the few million possible UPNs.
MINIMUM_KEY_BYTES = 16


class UnusableKey(ValueError):
    """A key that cannot be used (missing file, too short); str() says why in plain words."""


def read_key(
    key_file: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The key from `key_file` if given, else from the environment; None if neither has one.

    A key file's bytes are used as they are, less a trailing newline (an
    editor adds one); the environment variable is encoded as UTF-8. A key of
    fewer than MINIMUM_KEY_BYTES bytes is refused.
    """
    if key_file is not None:
        return _checked(_from_file(Path(key_file)), f"The key file {key_file}")
    value = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE)
    if not value:
        return None
    return _checked(value.encode("utf-8"), f"The environment variable {ENVIRONMENT_VARIABLE}")


def _from_file(path: Path) -> bytes:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise UnusableKey(f"The key file {path} does not exist.") from None
    except IsADirectoryError:
        raise UnusableKey(f"The key file {path} is a folder, not a file.") from None
    except OSError as error:
        raise UnusableKey(f"The key file {path} cannot be read: {error.strerror}.") from None
    # Only the line ending an editor adds; other whitespace may be part of the key.
    if content.endswith(b"\r\n"):
        return content[:-2]
    return content.removesuffix(b"\n")


def _checked(key: bytes, source: str) -> bytes:
    if len(key) < MINIMUM_KEY_BYTES:
        raise UnusableKey(
            f"{source} holds a key of {len(key)} bytes; a pseudonymisation key needs at "
            f"least {MINIMUM_KEY_BYTES} (for example 32 random bytes, "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    return key
