"""Where the files of an anonymisation run live, and how they go.

An uploaded dataset is personal data; the file made from it may still be. Both
live under `MEDIA_ROOT/anonymise/<organisation id>/` with random names, 0600
(`core.private_files`), and are removed after the download, and in any case
within 24 hours by `manage.py anonymise_cleanup` (hourly, taking files older
than `models.FILES_KEPT_FOR`). Nothing here knows about users or permissions:
the services decide, this module only touches the disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infoshare.core.private_files import PrivateFolder

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from pathlib import Path

    from infoshare.core.models import Organisation

FOLDER = PrivateFolder("anonymise", what="A run's file")


def root() -> Path:
    """The folder of every run's files."""
    return FOLDER.root()


def absolute(relative: str) -> Path:
    """The file of `relative`, refusing any name that would leave the folder."""
    return FOLDER.absolute(relative)


def save_bytes(organisation: Organisation, content: bytes, extension: str) -> str:
    """Write `content` under a new random name; returns the name relative to MEDIA_ROOT."""
    relative, path = FOLDER.create(organisation, extension)
    path.write_bytes(content)
    return relative


def prepare(organisation: Organisation, extension: str) -> tuple[str, Path]:
    """A new random name, and its folder made, for a file the engine writes itself."""
    return FOLDER.prepare(organisation, extension)


def remove(relative: str) -> bool:
    """Delete the file if it is there; whether there was one."""
    return FOLDER.remove(relative)


def files_older_than(cutoff: datetime) -> Iterator[str]:
    """Every file in the folder last written before `cutoff` (relative to MEDIA_ROOT)."""
    return FOLDER.files_older_than(cutoff)
