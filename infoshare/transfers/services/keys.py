"""The keys: the master key, each transfer's own key wrapped under it, the contexts
every sealed value is bound to, and the hashes of the link and of the code."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac

from infoshare.transfers import crypto
from infoshare.transfers.services.common import (
    BROKEN_KEY_MESSAGE,
    OTHER_MASTER_KEY_MESSAGE,
    ended_message,
    logger,
)

if TYPE_CHECKING:
    from infoshare.transfers.models import Reply, Transfer, TransferFile

# --- Keys ----------------------------------------------------------------------------------


def master_key() -> crypto.MasterKey:
    """The master key from the setting, read when called (tests change it)."""
    return crypto.MasterKey.from_text(settings.INFOSHARE_MASTER_KEY)


def unwrap_key(transfer: Transfer) -> bytes:
    """The transfer's own key. ValidationError if it was destroyed, or the master key changed."""
    if transfer.wrapped_key is None:
        raise ValidationError(ended_message(transfer))
    master = master_key()
    if transfer.master_key_id != master.key_id:
        logger.error(
            "Transfer %s was encrypted under master key %s; the current one is %s",
            transfer.reference,
            transfer.master_key_id,
            master.key_id,
        )
        raise ValidationError(OTHER_MASTER_KEY_MESSAGE)
    try:
        return master.unwrap(bytes(transfer.wrapped_key), context=key_context(transfer))
    except crypto.DecryptionError:
        logger.error("The wrapped key of transfer %s failed authentication", transfer.reference)
        raise ValidationError(BROKEN_KEY_MESSAGE) from None


def unwrap_key_for_download(transfer: Transfer) -> bytes:
    try:
        return unwrap_key(transfer)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None


def key_for_reading(transfer: Transfer) -> bytes | None:
    """The key, for showing names and messages; None once ended (or if it cannot be had)."""
    if transfer.wrapped_key is None:
        return None
    try:
        return unwrap_key(transfer)
    except ValidationError:
        return None


def key_context(transfer: Transfer) -> bytes:
    return b"transfer-key:" + transfer.uuid.bytes


def name_context(file: TransferFile) -> bytes:
    return b"file-name:" + file.uuid.bytes


def reply_context(reply: Reply) -> bytes:
    return b"reply:" + reply.uuid.bytes


def hash_of_link(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_of_code(transfer: Transfer, code: str) -> str:
    return salted_hmac(
        "infoshare.transfers.code", f"{transfer.uuid}:{code}", algorithm="sha256"
    ).hexdigest()
