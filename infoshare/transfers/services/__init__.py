"""Every change to a secure transfer (DESIGN.md rule 1), and every reading of what it holds.

Issue 9: a member sends files and a message to a named recipient outside the
school, encrypted, under a decision of the decision log; the recipient opens
them with the link from one email and a one-time code from another; every
opening, code attempt and download goes to the transfer's access log; the
sender or the DPO revokes it, or it expires, and its key and ciphertext are
destroyed.

Each change runs in `transaction.atomic()`, locks the transfer's row first
(`select_for_update`: two wrong codes at once count twice, two downloads at
once never pass the limit), checks who may and the state, and writes the
audit event in the same transaction; emails go after the commit. The audit
trail names transfers by reference and keeps statuses and counts only:
never the message, a file's name or the recipient.

A recipient's refused attempt (a locked or ended transfer, a wrong code, a
download past the limit) is itself an access log entry, so these services
commit that entry before raising or returning the refusal.

This package is the only way a transfer changes (DESIGN.md section 5, rule 1):
views, commands and the demo call it, never `.save()`. It is a package, not
`services.py`, because it grew past the ~800 lines of DESIGN.md section 3.
Its modules, by what they are about:

- `common`: what the pages hand in and get back (`Visit`, `TransferAnswers`,
  `FileView`, `ReplyView`, `Download`), the limits and the messages,
  `DamagedFile`, `recipient_state`, and the helpers every change uses
  (`lock_transfer`, `log_access`, the recipient's refusals);
- `keys`: the master key, unwrapping a transfer's own key, the contexts
  sealed values are bound to, the hashes of the link and the code;
- `sending`: `send_transfer`, the checks of what the sender answered, the
  size limits (`max_file_bytes`, `max_files`, `size_label`);
- `receiving`: the recipient's side: the link, the one-time code, what the
  recipient and the sender read, downloads, replies;
- `managing`: the sender's and the DPO's actions: `may_manage`, `note_view`,
  `note_export`, `revoke_transfer`, `unlock_transfer`;
- `expiry`: `expire_due_transfers`, the destruction of an ended transfer's
  key and files, the sweeps of blobs left behind.

Callers import the package (`from infoshare.transfers import services`, then
`services.send_transfer(...)`); `__all__` is its public API. The modules
import each other's helpers (`lock_transfer`, `unwrap_key`, …, not in
`__all__`) by name from the module that owns them, and a test that patches
something patches it there, where the code reads it.
"""

from infoshare.transfers.services.common import (
    AVAILABLE,
    BROKEN_KEY_MESSAGE,
    CODE_DIGITS,
    CODE_FIRST_MESSAGE,
    CODE_RESEND_AFTER,
    CODE_VALID_FOR,
    DAMAGED_MESSAGE,
    ENDED_STATE,
    LOCKED,
    LOCKED_MESSAGE,
    MAX_EMAIL_CHARS,
    MAX_FILE_NAME_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_USER_AGENT_CHARS,
    NO_LONGER_AVAILABLE,
    OTHER_MASTER_KEY_MESSAGE,
    REFERENCE_PREFIX,
    STRAY_BLOBS_KEPT_FOR,
    WAIT_MESSAGE,
    DamagedFile,
    Download,
    FileView,
    ReplyView,
    TransferAnswers,
    Visit,
    recipient_state,
)
from infoshare.transfers.services.expiry import expire_due_transfers
from infoshare.transfers.services.keys import master_key
from infoshare.transfers.services.managing import (
    may_manage,
    note_export,
    note_view,
    revoke_transfer,
    unlock_transfer,
)
from infoshare.transfers.services.receiving import (
    access_log_of,
    download_for_recipient,
    download_reply,
    files_of,
    find_by_token,
    issue_code,
    link_path,
    message_of,
    note_link_opened,
    receive_reply,
    recipient_files,
    replies_of,
    send_code,
    verify_code,
)
from infoshare.transfers.services.sending import (
    max_file_bytes,
    max_files,
    send_transfer,
    size_label,
)

__all__ = [
    "AVAILABLE",
    "BROKEN_KEY_MESSAGE",
    "CODE_DIGITS",
    "CODE_FIRST_MESSAGE",
    "CODE_RESEND_AFTER",
    "CODE_VALID_FOR",
    "DAMAGED_MESSAGE",
    "ENDED_STATE",
    "LOCKED",
    "LOCKED_MESSAGE",
    "MAX_EMAIL_CHARS",
    "MAX_FILE_NAME_CHARS",
    "MAX_MESSAGE_CHARS",
    "MAX_USER_AGENT_CHARS",
    "NO_LONGER_AVAILABLE",
    "OTHER_MASTER_KEY_MESSAGE",
    "REFERENCE_PREFIX",
    "STRAY_BLOBS_KEPT_FOR",
    "WAIT_MESSAGE",
    "DamagedFile",
    "Download",
    "FileView",
    "ReplyView",
    "TransferAnswers",
    "Visit",
    "access_log_of",
    "download_for_recipient",
    "download_reply",
    "expire_due_transfers",
    "files_of",
    "find_by_token",
    "issue_code",
    "link_path",
    "master_key",
    "max_file_bytes",
    "max_files",
    "may_manage",
    "message_of",
    "note_export",
    "note_link_opened",
    "note_view",
    "receive_reply",
    "recipient_files",
    "recipient_state",
    "replies_of",
    "revoke_transfer",
    "send_code",
    "send_transfer",
    "size_label",
    "unlock_transfer",
    "verify_code",
]
