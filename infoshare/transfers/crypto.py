"""Encryption of secure transfers: AES-256-GCM, streamed in chunks. No Django here.

The issue asks for each file encrypted with AES-256-GCM under a per-transfer
key, in chunks so that memory stays flat whatever the file's size, with any
tampering detected. `cryptography` (DESIGN.md section 4) gives AES-256-GCM and
HKDF but no streaming AEAD, and GCM over a whole file would need the whole file
before the first byte could be trusted. So the streaming construction is ours:
the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár ("Online
authenticated-encryption and its nonce-reuse misuse-resistance", CRYPTO 2015),
as Google Tink's AES-GCM-HKDF streaming AEAD uses it.

An encrypted stream is a header, then the chunks:

    header = b"ISX1" | chunk size (4 bytes, big-endian) | salt (16) | nonce prefix (7)
    chunk i = AES-256-GCM(stream key, nonce_i, plaintext_i, AAD=header)  (plaintext + 16-byte tag)

    stream key = HKDF-SHA256(key, salt=salt, info=b"infoshare stream v1" + context)
    nonce_i    = nonce prefix | i (4 bytes, big-endian) | last (1 byte: 1 on the final chunk)

Every chunk but the last holds exactly `chunk size` bytes of plaintext; the
last holds 0 to `chunk size` (an empty file is one final chunk of 0 bytes).
Because each chunk's nonce carries its position and whether it ends the
stream, and its AAD the header, a chunk that is changed, dropped, swapped,
repeated, moved into another stream, or a stream cut short or lengthened,
fails authentication. The context (e.g. b"file:" + the file's UUID) goes into
the key derivation, so a ciphertext cannot be passed off as another file's.
The random salt gives each stream a key of its own, so the 12-byte nonces
never repeat under one key however many files a transfer key encrypts.

Small values (a message, a file name) are sealed whole: nonce (12) | GCM
ciphertext, with the context as AAD. A transfer's key is kept only wrapped by
the master key (`MasterKey`), the same way, with the transfer as context.

Streams go a chunk at a time through reused buffers, so memory stays at a
few chunks whatever the file's size; a stream of more than one chunk is
written by a second thread while the next chunk is encrypted (`_WriteBehind`).
(AESGCM's `encrypt_into` and `decrypt_into`, which fill a reused buffer, need
cryptography 47 or later.)

Anything that fails authentication raises `DecryptionError`, and
`decrypt_stream` yields a chunk's plaintext only after its tag is verified.
Misuse by the caller (a key of the wrong length) raises ValueError.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
CHUNK_BYTES = 1024 * 1024  # plaintext bytes per chunk
# A header's chunk size is read before anything is authenticated: a bound on
# it keeps a forged header from making us allocate gigabytes.
MAX_CHUNK_BYTES = 16 * 1024 * 1024
# The chunk index is 4 bytes of the nonce: no stream may have more chunks.
MAX_CHUNKS = 2**32
# The most handed to a sink's write at once (see `_write_all`).
WRITE_BYTES = 256 * 1024

MAGIC = b"ISX1"
SALT_BYTES = 16
PREFIX_BYTES = 7
HEADER_BYTES = len(MAGIC) + 4 + SALT_BYTES + PREFIX_BYTES
NONCE_BYTES = 12
TAG_BYTES = 16
STREAM_INFO = b"infoshare stream v1"
KEY_ID_INFO = b"infoshare master key id"
# A wrapped key: nonce, the key encrypted, the tag.
WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES


class DecryptionError(Exception):
    """Ciphertext that fails authentication: tampered, truncated, reordered, not ours,
    or under another key or context. Nothing of it may be used."""


class Source(Protocol):
    """What is encrypted or decrypted from: an open binary file, an upload, a socket file.

    `readinto` is used when the object has it (no copy); `read` otherwise.
    Either may return fewer bytes than asked before the end.
    """

    def read(self, size: int = -1, /) -> bytes: ...


class Sink(Protocol):
    """Where the output goes: an open binary file, a storage file, a socket file.

    It is given memoryviews; it may take fewer bytes than given if it says how
    many (as a raw file does), and is written from a second thread for a
    stream of more than one chunk (never from two at once).
    """

    def write(self, data: memoryview, /) -> object: ...


# --- Keys ------------------------------------------------------------------------------------


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


def new_key() -> bytes:
    """A fresh random key for one transfer."""
    return secrets.token_bytes(KEY_BYTES)


def _check_key(key: bytes) -> None:
    # AESGCM would also take 16 or 24 bytes; the issue requires AES-256.
    if len(key) != KEY_BYTES:
        raise ValueError(f"a key must be {KEY_BYTES} bytes, not {len(key)}.")


class MasterKey:
    """The key from INFOSHARE_MASTER_KEY, which wraps every transfer's key.

    `key_id` names it in the database (`Transfer.master_key_id`) so that a
    rotated master key can be told from the old one; it is derived one-way
    and reveals nothing of the key. The key itself is never shown, not even
    in a traceback's repr.
    """

    __slots__ = ("_aead", "key_id")

    def __init__(self, key: bytes) -> None:
        _check_key(key)
        self._aead = AESGCM(key)
        self.key_id: str = _derive(key, salt=None, info=KEY_ID_INFO, length=8).hex()

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        """The master key written in base64, as in the setting."""
        return cls(decode_key(text))

    def __repr__(self) -> str:
        return f"<MasterKey {self.key_id}>"

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        """`key` encrypted under the master key, bound to `context` (the transfer)."""
        _check_key(key)
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, key, context)

    def unwrap(self, wrapped: bytes | memoryview, *, context: bytes) -> bytes:
        """The key that `wrap` wrapped for the same context; DecryptionError otherwise.

        A memoryview is accepted as it is what a BinaryField holds on PostgreSQL.
        """
        if len(wrapped) != WRAPPED_BYTES:
            raise DecryptionError("This is not a wrapped key.")
        return _open(self._aead, bytes(wrapped), context)


def _derive(key: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


# --- Small values ----------------------------------------------------------------------------


def seal(key: bytes, plaintext: bytes, *, context: bytes) -> bytes:
    """`plaintext` (a message, a file name; may be empty) encrypted whole under `key`."""
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def open_sealed(key: bytes, sealed: bytes | memoryview, *, context: bytes) -> bytes:
    """The plaintext `seal` sealed under `key` for `context`; DecryptionError otherwise.

    A memoryview is accepted as it is what a BinaryField holds on PostgreSQL.
    """
    _check_key(key)
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("This is not a sealed value.")
    return _open(AESGCM(key), bytes(sealed), context)


def _open(aead: AESGCM, sealed: bytes, context: bytes) -> bytes:
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return aead.decrypt(nonce, ciphertext, context)
    except InvalidTag:
        raise DecryptionError("The value is damaged, or under another key.") from None


# --- Streams ---------------------------------------------------------------------------------

# A chunk as read: its ciphertext, the nonce it must have, whether it is the last.
SealedChunk = tuple[memoryview, bytes, bool]


def encrypted_size(plaintext_size: int, chunk_size: int = CHUNK_BYTES) -> int:
    """How many bytes `encrypt_stream` writes for `plaintext_size` bytes."""
    chunks = max(1, -(-plaintext_size // chunk_size))  # at least the final chunk
    return HEADER_BYTES + plaintext_size + chunks * TAG_BYTES


def encrypt_stream(
    key: bytes,
    source: Source,
    sink: Sink,
    *,
    context: bytes,
    chunk_size: int = CHUNK_BYTES,
) -> int:
    """Encrypt everything `source` holds into `sink`; returns the plaintext bytes read.

    Memory stays at about four chunks whatever the size: two reused input
    buffers (the current chunk, and the next one read ahead to learn whether
    the current one is the last) and the two output buffers of `_WriteBehind`.
    """
    _check_key(key)
    if not 1 <= chunk_size <= MAX_CHUNK_BYTES:
        raise ValueError(f"the chunk size must be 1 to {MAX_CHUNK_BYTES} bytes.")
    header = _header(chunk_size, os.urandom(SALT_BYTES), os.urandom(PREFIX_BYTES))
    aead = AESGCM(_stream_key(key, header, context))
    _write_all(sink, header)
    current, ahead = bytearray(chunk_size), bytearray(chunk_size)
    size, total, index = _fill(source, current), 0, 0
    with _WriteBehind(sink, chunk_size + TAG_BYTES) as output:
        while True:
            # A full chunk is the last only if nothing follows it.
            next_size = _fill(source, ahead) if size == chunk_size else 0
            last = next_size == 0
            if index >= MAX_CHUNKS:
                raise ValueError(f"a stream holds at most {MAX_CHUNKS} chunks; use larger ones.")
            sealed = output.buffer(size + TAG_BYTES)
            with memoryview(current) as plain:
                aead.encrypt_into(_nonce(header, index, last), plain[:size], header, sealed)
            output.write(sealed, last=last)
            total += size
            if last:
                return total
            current, ahead, size, index = ahead, current, next_size, index + 1


def decrypt_stream(key: bytes, source: Source, *, context: bytes) -> Iterator[bytes]:
    """The plaintext of an encrypted stream, chunk by chunk, each authenticated first.

    Raises DecryptionError at the first chunk that fails, which is the last one
    read when the stream was cut short or has bytes after its final chunk: so
    a consumer must treat what it had as void when the error comes. Nothing is
    read before the first `next()`.
    """
    header, chunks = _open_stream(key, source)
    aead = AESGCM(_stream_key(key, header, context))
    for sealed, nonce, _last in chunks:
        try:
            yield aead.decrypt(nonce, sealed, header)
        except InvalidTag:
            raise _damaged() from None


def decrypt_to(key: bytes, source: Source, sink: Sink, *, context: bytes) -> int:
    """Decrypt an encrypted stream into `sink`; returns the plaintext bytes written.

    Like `decrypt_stream` (the same errors, at the same points) but without a
    new bytes object per chunk: each is decrypted into a reused buffer, and
    written while the next is decrypted. If it raises, what reached `sink`
    must be discarded.
    """
    header, chunks = _open_stream(key, source)
    aead = AESGCM(_stream_key(key, header, context))
    total = 0
    with _WriteBehind(sink, _chunk_size(header)) as output:
        for sealed, nonce, last in chunks:
            plain = output.buffer(len(sealed) - TAG_BYTES)
            try:
                aead.decrypt_into(nonce, sealed, header, plain)
            except InvalidTag:
                raise _damaged() from None
            output.write(plain, last=last)
            total += len(plain)
    return total


def _open_stream(key: bytes, source: Source) -> tuple[bytes, Iterator[SealedChunk]]:
    """The header of the stream in `source`, checked, and an iterator over its sealed chunks."""
    _check_key(key)
    header = bytearray(HEADER_BYTES)
    if _fill(source, header) < HEADER_BYTES or not header.startswith(MAGIC):
        raise DecryptionError("This is not an encrypted transfer file.")
    if not 1 <= _chunk_size(header) <= MAX_CHUNK_BYTES:
        raise DecryptionError("This is not an encrypted transfer file.")
    return bytes(header), _sealed_chunks(source, bytes(header))


def _sealed_chunks(source: Source, header: bytes) -> Iterator[SealedChunk]:
    """Each chunk's ciphertext, the nonce it must have been sealed with, and if it is the last.

    Whether a chunk is the last is learnt by reading the next one ahead: a
    short chunk is the last; a full one is the last only if the end follows.
    The nonce says which it should be, so a stream cut at a chunk boundary, or
    with bytes after its final chunk, fails authentication at its end. The
    memoryview is into a buffer reused two chunks later: use it before the next.
    """
    full = _chunk_size(header) + TAG_BYTES
    current, ahead = bytearray(full), bytearray(full)
    size, index = _fill(source, current), 0
    while True:
        next_size = _fill(source, ahead) if size == full else 0
        last = next_size == 0
        if size < TAG_BYTES:  # no chunk at all, or a piece of one
            raise DecryptionError("The encrypted file is incomplete.")
        if index >= MAX_CHUNKS:
            raise _damaged()
        with memoryview(current) as view:
            yield view[:size], _nonce(header, index, last), last
        if last:
            return
        current, ahead, size, index = ahead, current, next_size, index + 1


def _header(chunk_size: int, salt: bytes, prefix: bytes) -> bytes:
    return MAGIC + chunk_size.to_bytes(4, "big") + salt + prefix


def _chunk_size(header: bytes | bytearray) -> int:
    return int.from_bytes(header[len(MAGIC) : len(MAGIC) + 4], "big")


def _stream_key(key: bytes, header: bytes, context: bytes) -> bytes:
    salt = header[len(MAGIC) + 4 : len(MAGIC) + 4 + SALT_BYTES]
    return _derive(key, salt=salt, info=STREAM_INFO + context, length=KEY_BYTES)


def _nonce(header: bytes, index: int, last: bool) -> bytes:
    """Chunk `index`'s nonce: the stream's prefix, the index and the last-chunk flag."""
    return header[-PREFIX_BYTES:] + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _damaged() -> DecryptionError:
    return DecryptionError("The encrypted file is damaged, or under another key.")


# --- Reading and writing ---------------------------------------------------------------------


def _fill(source: Source, buffer: bytearray) -> int:
    """Read into `buffer` until it is full or the source ends; returns the bytes read.

    Uploads, pipes and sockets may return fewer bytes than asked before their
    end, so one short read does not mean the end: only an empty one does.
    """
    readinto = getattr(source, "readinto", None)
    filled, wanted = 0, len(buffer)
    with memoryview(buffer) as view:
        while filled < wanted:
            if readinto is not None:
                got = readinto(view[filled:]) or 0
            else:
                data = source.read(wanted - filled)
                got = len(data)
                view[filled : filled + got] = data
            if not got:
                break
            filled += got
    return filled


class _WriteBehind:
    """Writes each chunk to the sink in a second thread while the next is en/decrypted.

    Writing to a file costs about as much as AES-GCM itself (the page cache
    allocates), and both release the GIL, so they overlap rather than take
    turns: in bench/transfers.py that takes a 1 GiB file from under half of raw
    AES-GCM's throughput to over half, the issue's aim. Two output buffers
    take turns: one is written while the other is filled. The sink is only
    ever written by one thread at a time, in order. A stream of one chunk
    (most files) is written inline, so no thread is started for it.
    """

    def __init__(self, sink: Sink, size: int) -> None:
        self._sink = sink
        self._buffers = (bytearray(size), bytearray(size))
        self._turn = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="transfer-write")
        self._pending: Future[None] | None = None

    def __enter__(self) -> _WriteBehind:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # After an error too: the sink is not closed under a write still running.
        self._pool.shutdown(wait=True)

    def buffer(self, size: int) -> memoryview:
        """The buffer to fill next: not the one being written."""
        return memoryview(self._buffers[self._turn])[:size]

    def write(self, data: memoryview, *, last: bool) -> None:
        """Start writing `data` (from `buffer`); the last chunk is written before returning."""
        self._wait()
        if last:
            _write_all(self._sink, data)
            return
        self._pending = self._pool.submit(_write_all, self._sink, data)
        self._turn ^= 1

    def _wait(self) -> None:
        """Wait for the write in progress, raising what it raised."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()


def _write_all(sink: Sink, data: bytes | memoryview) -> None:
    """Write all of `data`, in pieces of at most WRITE_BYTES.

    Pieces, because a large aligned write makes the page cache allocate large
    folios, which on a virtual machine that hands free memory back to its host
    cost more than the encryption: bench/transfers.py found 1 MiB writes at a
    third of the speed of 256 KiB ones there, and pieces cost nothing elsewhere.
    A raw file may take less than given and say how much: the rest is written.
    """
    with memoryview(data) as view:
        done = 0
        while done < len(view):
            piece = view[done : done + WRITE_BYTES]
            written = sink.write(piece)
            if not isinstance(written, int):
                written = len(piece)  # some sinks return None: they took it all
            elif written <= 0:
                raise OSError("The output accepted none of the bytes written to it.")
            done += min(written, len(piece))
