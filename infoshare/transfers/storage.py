"""Where the ciphertext of secure transfers lives on disk.

Each file of a transfer (or of a reply to it) is one blob: AES-256-GCM
ciphertext, never the plaintext, under
`MEDIA_ROOT/transfers/<organisation id>/<random hex>.bin`, with the random
names, 0700 folders and 0600 files, created exclusively, of `core.private_files`.
Nothing here knows about users, keys or permissions: the services decide,
this module only touches the disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from infoshare.core.private_files import PrivateFolder

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from pathlib import Path

    from infoshare.core.models import Organisation

FOLDER = PrivateFolder("transfers", what="A transfer's blob")
EXTENSION = "bin"


def root() -> Path:
    """The folder of every transfer's blobs."""
    return FOLDER.root()


def absolute(relative: str) -> Path:
    """The blob named `relative` (to MEDIA_ROOT), refusing any name that would leave the folder."""
    return FOLDER.absolute(relative)


def new_blob(organisation: Organisation) -> tuple[str, Path]:
    """Create an empty blob under a new random name: its name relative to MEDIA_ROOT, and path.

    The file exists (0600, created exclusively) when this returns, so the
    caller writes into it and a failed send can remove it by name.
    """
    return FOLDER.create(organisation, EXTENSION)


def open_blob(relative: str) -> BinaryIO:
    """The blob, open for reading. FileNotFoundError if it is gone."""
    return absolute(relative).open("rb")


def exists(relative: str) -> bool:
    return bool(relative) and absolute(relative).is_file()


def remove(relative: str) -> bool:
    """Delete the blob if it is there; whether there was one."""
    return FOLDER.remove(relative)


def blobs_older_than(cutoff: datetime) -> Iterator[str]:
    """Every blob on disk last written before `cutoff`, named relative to MEDIA_ROOT."""
    return FOLDER.files_older_than(cutoff, f"*.{EXTENSION}")
