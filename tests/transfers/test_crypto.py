"""The encryption of secure transfers (`crypto.py`): what the issue promises of it.

Files round-trip whatever their size; any change to the ciphertext (a bit, a
chunk dropped, swapped, repeated or moved, a cut, bytes added, another key or
context, a file that is not ours) is refused with DecryptionError before any of
its plaintext is given out; memory stays flat whatever the size; the master key
wraps transfer keys without ever showing itself.
"""

from __future__ import annotations

import base64
import io
import os
import random
import tracemalloc
from pathlib import Path

import hypothesis
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from infoshare.transfers import crypto
from infoshare.transfers.crypto import (
    CHUNK_BYTES,
    HEADER_BYTES,
    KEY_BYTES,
    TAG_BYTES,
    DecryptionError,
    MasterKey,
    decode_key,
    decrypt_stream,
    decrypt_to,
    encrypt_stream,
    encrypted_size,
    new_key,
    open_sealed,
    seal,
)

KEY = bytes(range(KEY_BYTES))
OTHER_KEY = bytes(range(1, KEY_BYTES + 1))
CONTEXT = b"file:" + bytes(16)
SMALL = 64  # a chunk size that makes many chunks out of a few hundred bytes
# The autouse `media` fixture of this folder is function-scoped; nothing here uses it.
properties = hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def encrypted(data: bytes, *, chunk_size: int = SMALL, key: bytes = KEY) -> bytes:
    sink = io.BytesIO()
    encrypt_stream(key, io.BytesIO(data), sink, context=CONTEXT, chunk_size=chunk_size)
    return sink.getvalue()


def decrypted(ciphertext: bytes, *, key: bytes = KEY, context: bytes = CONTEXT) -> bytes:
    """Through both ways of decrypting, which must agree."""
    streamed = b"".join(decrypt_stream(key, io.BytesIO(ciphertext), context=context))
    sink = io.BytesIO()
    assert decrypt_to(key, io.BytesIO(ciphertext), sink, context=context) == len(streamed)
    assert sink.getvalue() == streamed
    return streamed


def refused(ciphertext: bytes, *, key: bytes = KEY, context: bytes = CONTEXT) -> bool:
    """True if both ways of decrypting raise DecryptionError."""
    outcomes = []
    for attempt in (
        lambda: b"".join(decrypt_stream(key, io.BytesIO(ciphertext), context=context)),
        lambda: decrypt_to(key, io.BytesIO(ciphertext), io.BytesIO(), context=context),
    ):
        try:
            attempt()
        except DecryptionError:
            outcomes.append(True)
        else:
            outcomes.append(False)
    return all(outcomes)


def given_out_until_refused(ciphertext: bytes) -> list[bytes]:
    """What decrypt_stream gave out before raising DecryptionError, which it must."""
    given_out: list[bytes] = []
    pieces = decrypt_stream(KEY, io.BytesIO(ciphertext), context=CONTEXT)
    with pytest.raises(DecryptionError):
        given_out.extend(pieces)
    return given_out


def chunks_of(ciphertext: bytes, chunk_size: int = SMALL) -> tuple[bytes, list[bytes]]:
    """The header and the sealed chunks of `ciphertext`, to tamper with them."""
    body, step = ciphertext[HEADER_BYTES:], chunk_size + TAG_BYTES
    return ciphertext[:HEADER_BYTES], [body[i : i + step] for i in range(0, len(body), step)]


# --- Round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "chunk_size"),
    [
        (0, CHUNK_BYTES),  # an empty file is one final chunk of nothing
        (1, CHUNK_BYTES),
        (CHUNK_BYTES, CHUNK_BYTES),  # exactly one full chunk, which is the last
        (CHUNK_BYTES + 1, CHUNK_BYTES),
        (0, SMALL),
        (SMALL, SMALL),
        (SMALL * 50, SMALL),  # many chunks, all full
        (SMALL * 50 + 17, SMALL),
    ],
)
def test_a_file_comes_back_byte_for_byte(size, chunk_size):
    data = os.urandom(size)
    sink = io.BytesIO()
    read = encrypt_stream(KEY, io.BytesIO(data), sink, context=CONTEXT, chunk_size=chunk_size)
    assert read == size
    assert len(sink.getvalue()) == encrypted_size(size, chunk_size)
    assert decrypted(sink.getvalue()) == data


def test_the_plaintext_comes_out_a_chunk_at_a_time():
    data = os.urandom(SMALL * 3 + 5)
    pieces = list(decrypt_stream(KEY, io.BytesIO(encrypted(data)), context=CONTEXT))
    assert [len(piece) for piece in pieces] == [SMALL, SMALL, SMALL, 5]


def test_the_format_is_the_documented_one():
    """Read with cryptography alone, as the module docstring describes it: the format is a
    contract with every file already stored."""
    data = os.urandom(SMALL + 10)
    ciphertext = encrypted(data)
    header = ciphertext[:HEADER_BYTES]
    magic, chunk_size = header[:4], int.from_bytes(header[4:8], "big")
    salt, prefix = header[8:24], header[24:31]
    assert (magic, chunk_size, HEADER_BYTES) == (b"ISX1", SMALL, 31)
    stream_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"infoshare stream v1" + CONTEXT
    ).derive(KEY)
    aead = AESGCM(stream_key)
    first = ciphertext[HEADER_BYTES : HEADER_BYTES + SMALL + TAG_BYTES]
    final = ciphertext[HEADER_BYTES + SMALL + TAG_BYTES :]
    assert aead.decrypt(prefix + (0).to_bytes(4, "big") + b"\x00", first, header) == data[:SMALL]
    assert aead.decrypt(prefix + (1).to_bytes(4, "big") + b"\x01", final, header) == data[SMALL:]


def test_the_ciphertext_shows_nothing_of_the_plaintext_and_differs_each_time():
    data = b"Pupil: Example Name, date of birth 01/01/2015. " * 20
    first, second = encrypted(data), encrypted(data)
    assert first != second  # a fresh salt and nonce prefix every time
    assert b"Example Name" not in first
    assert first.startswith(crypto.MAGIC)


@properties
@given(data=st.binary(max_size=2000), chunk_size=st.integers(min_value=1, max_value=300))
def test_any_bytes_round_trip_at_any_chunk_size(data, chunk_size):
    ciphertext = encrypted(data, chunk_size=chunk_size)
    assert len(ciphertext) == encrypted_size(len(data), chunk_size)
    assert decrypted(ciphertext) == data


@given(size=st.integers(min_value=0, max_value=10**12), chunk_size=st.integers(1, 2**24))
def test_encrypted_size_counts_the_header_and_a_tag_per_chunk(size, chunk_size):
    chunks = max(1, -(-size // chunk_size))
    assert encrypted_size(size, chunk_size) == HEADER_BYTES + size + chunks * TAG_BYTES


# --- Sources and sinks as they come ---------------------------------------------------------


class Trickle:
    """A source that returns 1..n bytes per call before its end, as uploads and sockets may."""

    def __init__(self, data: bytes, *, seed: int, readinto: bool) -> None:
        self._data = io.BytesIO(data)
        self._random = random.Random(seed)
        if readinto:
            self.readinto = self._readinto

    def read(self, size: int = -1) -> bytes:
        return self._data.read(self._random.randint(1, max(1, size)))

    def _readinto(self, buffer: memoryview) -> int:
        return self._data.readinto(buffer[: self._random.randint(1, len(buffer))])


@pytest.mark.parametrize("readinto", [True, False], ids=["readinto", "read"])
def test_short_reads_are_not_mistaken_for_the_end(readinto):
    data = os.urandom(SMALL * 20 + 3)
    sink = io.BytesIO()
    source = Trickle(data, seed=1, readinto=readinto)
    assert encrypt_stream(KEY, source, sink, context=CONTEXT, chunk_size=SMALL) == len(data)
    ciphertext = sink.getvalue()
    back = b"".join(
        decrypt_stream(KEY, Trickle(ciphertext, seed=2, readinto=readinto), context=CONTEXT)
    )
    assert back == data
    out = io.BytesIO()
    decrypt_to(KEY, Trickle(ciphertext, seed=3, readinto=readinto), out, context=CONTEXT)
    assert out.getvalue() == data


class ShortWriter:
    """A sink that takes at most 7 bytes a call and says how many, like a raw file may."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: memoryview) -> int:
        taken = bytes(data[:7])
        self.data += taken
        return len(taken)


def test_short_writes_are_completed():
    data = os.urandom(SMALL * 4 + 9)
    sink = ShortWriter()
    encrypt_stream(KEY, io.BytesIO(data), sink, context=CONTEXT, chunk_size=SMALL)
    assert decrypted(bytes(sink.data)) == data
    out = ShortWriter()
    decrypt_to(KEY, io.BytesIO(bytes(sink.data)), out, context=CONTEXT)
    assert bytes(out.data) == data


class BrokenWriter:
    """A sink whose disk fills up after `good` writes."""

    def __init__(self, good: int) -> None:
        self.good = good

    def write(self, data: memoryview) -> int:
        if self.good == 0:
            raise OSError(28, "No space left on device")
        self.good -= 1
        return len(data)


@pytest.mark.parametrize("good", [0, 1, 3])
def test_a_failing_sink_fails_the_encryption(good):
    source = io.BytesIO(os.urandom(SMALL * 10))
    with pytest.raises(OSError, match="No space left"):
        encrypt_stream(KEY, source, BrokenWriter(good), context=CONTEXT, chunk_size=SMALL)


def test_a_failing_sink_fails_the_decryption():
    ciphertext = encrypted(os.urandom(SMALL * 10))
    with pytest.raises(OSError, match="No space left"):
        decrypt_to(KEY, io.BytesIO(ciphertext), BrokenWriter(2), context=CONTEXT)


def test_files_on_disk_and_uploads_are_sources_and_sinks(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    data = os.urandom(3 * SMALL + 1)
    uploads = [SimpleUploadedFile("a.pdf", data), TemporaryUploadedFile("b.pdf", "", 0, None)]
    uploads[1].write(data)
    uploads[1].seek(0)
    for number, upload in enumerate(uploads):
        path = tmp_path / f"{number}.isx"
        with path.open("wb") as sink:
            encrypt_stream(KEY, upload, sink, context=CONTEXT, chunk_size=SMALL)
        upload.close()
        with path.open("rb") as source, (tmp_path / "out").open("wb") as sink:
            assert decrypt_to(KEY, source, sink, context=CONTEXT) == len(data)
        assert (tmp_path / "out").read_bytes() == data


# --- Tampering ----------------------------------------------------------------------------------


@properties
@given(data=st.binary(max_size=400), chunk_size=st.integers(1, 100), position=st.integers(0))
def test_any_flipped_bit_is_refused(data, chunk_size, position):
    ciphertext = bytearray(encrypted(data, chunk_size=chunk_size))
    bit = position % (len(ciphertext) * 8)
    ciphertext[bit // 8] ^= 1 << (bit % 8)
    assert refused(bytes(ciphertext))


@properties
@given(data=st.binary(max_size=400), chunk_size=st.integers(1, 100), cut=st.integers(0))
def test_any_truncation_is_refused(data, chunk_size, cut):
    ciphertext = encrypted(data, chunk_size=chunk_size)
    assert refused(ciphertext[: cut % len(ciphertext)])


@properties
@given(data=st.binary(min_size=2 * SMALL + 1, max_size=12 * SMALL), picks=st.data())
def test_swapping_two_chunks_is_refused(data, picks):
    header, chunks = chunks_of(encrypted(data))
    first = picks.draw(st.integers(0, len(chunks) - 2))
    second = picks.draw(st.integers(first + 1, len(chunks) - 1))
    chunks[first], chunks[second] = chunks[second], chunks[first]
    assert refused(header + b"".join(chunks))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda chunks: chunks[:1] + chunks[2:], id="a middle chunk dropped"),
        pytest.param(lambda chunks: chunks[1:], id="the first chunk dropped"),
        pytest.param(lambda chunks: chunks[:-1], id="cut at a chunk boundary"),
        pytest.param(lambda chunks: [chunks[0], *chunks], id="a chunk repeated"),
        pytest.param(lambda chunks: [*chunks, chunks[-1]], id="the final chunk repeated"),
    ],
)
def test_chunks_dropped_repeated_or_cut_are_refused(tamper):
    header, chunks = chunks_of(encrypted(os.urandom(SMALL * 4 + 10)))
    assert refused(header + b"".join(tamper(chunks)))


def test_a_chunk_from_another_stream_under_the_same_key_is_refused():
    header, chunks = chunks_of(encrypted(os.urandom(SMALL * 4)))
    _other_header, others = chunks_of(encrypted(os.urandom(SMALL * 4)))
    chunks[1] = others[1]
    assert refused(header + b"".join(chunks))


@pytest.mark.parametrize(
    "appended",
    [b"\x00", os.urandom(TAG_BYTES), os.urandom(SMALL + TAG_BYTES), None],
    ids=["a byte", "a tag's worth", "a chunk's worth", "a whole second stream"],
)
@pytest.mark.parametrize("size", [SMALL * 3, SMALL * 3 + 5], ids=["full last", "short last"])
def test_bytes_after_the_final_chunk_are_refused(appended, size):
    ciphertext = encrypted(os.urandom(size))
    extra = encrypted(b"more") if appended is None else appended
    assert refused(ciphertext + extra)


@pytest.mark.parametrize(
    ("offset", "name"),
    [(0, "magic"), (5, "chunk size"), (10, "salt"), (HEADER_BYTES - 1, "nonce prefix")],
)
def test_a_changed_header_is_refused(offset, name):
    ciphertext = bytearray(encrypted(os.urandom(SMALL * 2)))
    ciphertext[offset] ^= 0x01
    assert refused(bytes(ciphertext)), name


def test_a_header_claiming_huge_chunks_is_refused_before_any_allocation():
    ciphertext = bytearray(encrypted(b"data"))
    ciphertext[4:8] = (2**32 - 1).to_bytes(4, "big")
    tracemalloc.start()
    try:
        assert refused(bytes(ciphertext))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_another_key_or_context_is_refused():
    ciphertext = encrypted(os.urandom(SMALL * 2 + 1))
    assert refused(ciphertext, key=OTHER_KEY)
    assert refused(ciphertext, context=b"file:" + bytes(15) + b"\x01")
    assert refused(ciphertext, context=b"")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 10,
        b"Name,Date of birth\nExample Pupil,2015-01-01\n" * 10,
        crypto.MAGIC,
        crypto.MAGIC + os.urandom(200),
    ],
    ids=["empty", "a PDF", "a CSV", "only the magic", "the magic and noise"],
)
def test_a_file_that_is_not_ours_is_refused(content):
    assert refused(content)


def test_nothing_of_a_tampered_first_chunk_is_given_out():
    ciphertext = bytearray(encrypted(os.urandom(SMALL * 3)))
    ciphertext[HEADER_BYTES + 3] ^= 0x80  # inside the first chunk's ciphertext
    assert given_out_until_refused(bytes(ciphertext)) == []


def test_only_the_chunks_before_a_tampered_one_are_given_out():
    data = os.urandom(SMALL * 3)
    ciphertext = bytearray(encrypted(data))
    ciphertext[HEADER_BYTES + (SMALL + TAG_BYTES) + 1] ^= 0x01  # the second chunk
    assert given_out_until_refused(bytes(ciphertext)) == [data[:SMALL]]


def test_a_stream_cut_short_is_refused_after_what_was_whole():
    data = os.urandom(SMALL * 3)
    ciphertext = encrypted(data)
    cut = ciphertext[: HEADER_BYTES + 2 * (SMALL + TAG_BYTES)]  # the final chunk gone
    # The last chunk read claims to be final and is not: the error comes there,
    # before the stream ends, so a download is broken off rather than completed.
    assert given_out_until_refused(cut) == [data[:SMALL]]


def test_nothing_is_read_before_the_first_chunk_is_asked_for():
    source = io.BytesIO(b"not ours at all")
    pieces = decrypt_stream(KEY, source, context=CONTEXT)
    assert source.tell() == 0
    with pytest.raises(DecryptionError):
        next(pieces)


def test_a_stream_has_at_most_max_chunks(monkeypatch):
    ciphertext = encrypted(b"four", chunk_size=1)  # four chunks
    monkeypatch.setattr(crypto, "MAX_CHUNKS", 3)
    with pytest.raises(ValueError, match="at most 3 chunks"):
        encrypt_stream(KEY, io.BytesIO(b"four"), io.BytesIO(), context=CONTEXT, chunk_size=1)
    assert refused(ciphertext)
    assert encrypted(b"thr", chunk_size=1)  # three chunks are fine


@pytest.mark.parametrize("chunk_size", [0, crypto.MAX_CHUNK_BYTES + 1])
def test_an_impossible_chunk_size_is_a_programming_error(chunk_size):
    with pytest.raises(ValueError, match="chunk size"):
        encrypt_stream(KEY, io.BytesIO(b"x"), io.BytesIO(), context=CONTEXT, chunk_size=chunk_size)


# --- Flat memory -------------------------------------------------------------------------------


class Generated:
    """`size` bytes made as they are read, never held: a large file without the memory."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = bytes(range(256)) * 4096  # 1 MiB, reused

    def readinto(self, buffer: memoryview) -> int:
        size = min(len(buffer), self.left, len(self.block))
        buffer[:size] = self.block[:size]
        self.left -= size
        return size

    def read(self, size: int = -1) -> bytes:  # what a source must have; readinto is preferred
        buffer = bytearray(len(self.block) if size < 0 else min(size, len(self.block)))
        return bytes(buffer[: self.readinto(memoryview(buffer))])


class Discard:
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: memoryview) -> int:
        self.size += len(data)
        return len(data)


STREAM_SIZE = 64 * 1024 * 1024
MEMORY_BOUND = 8 * 1024 * 1024  # a few chunks: 64 MiB held anywhere would blow it


def peak_memory(work) -> int:
    tracemalloc.start()
    try:
        work()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_encrypting_a_large_stream_keeps_memory_flat():
    sink = Discard()
    peak = peak_memory(lambda: encrypt_stream(KEY, Generated(STREAM_SIZE), sink, context=CONTEXT))
    assert sink.size == encrypted_size(STREAM_SIZE)
    assert peak < MEMORY_BOUND


def test_decrypting_a_large_stream_keeps_memory_flat(tmp_path: Path):
    path = tmp_path / "large.isx"
    with path.open("wb") as file:
        encrypt_stream(KEY, Generated(STREAM_SIZE), file, context=CONTEXT)
    sink = Discard()
    with path.open("rb") as source:
        assert peak_memory(lambda: decrypt_to(KEY, source, sink, context=CONTEXT)) < MEMORY_BOUND
    assert sink.size == STREAM_SIZE

    def consume() -> None:
        with path.open("rb") as source:
            for piece in decrypt_stream(KEY, source, context=CONTEXT):
                sink.write(memoryview(piece))

    assert peak_memory(consume) < MEMORY_BOUND


# --- The master key -------------------------------------------------------------------------


def test_a_wrapped_key_unwraps_for_its_own_transfer_only():
    master, transfer_key = MasterKey(KEY), new_key()
    wrapped = master.wrap(transfer_key, context=b"transfer-key:" + bytes(16))
    assert transfer_key not in wrapped
    assert master.unwrap(wrapped, context=b"transfer-key:" + bytes(16)) == transfer_key
    with pytest.raises(DecryptionError):
        master.unwrap(wrapped, context=b"transfer-key:" + bytes(15) + b"\x01")
    with pytest.raises(DecryptionError):
        MasterKey(OTHER_KEY).unwrap(wrapped, context=b"transfer-key:" + bytes(16))


def test_keys_and_values_read_back_as_memoryviews_open_too():
    """PostgreSQL gives a BinaryField back as a memoryview, SQLite as bytes."""
    master, transfer_key = MasterKey(KEY), new_key()
    wrapped = memoryview(master.wrap(transfer_key, context=b"t"))
    assert master.unwrap(wrapped, context=b"t") == transfer_key
    sealed = memoryview(seal(transfer_key, b"the message", context=b"m"))
    assert open_sealed(transfer_key, sealed, context=b"m") == b"the message"


def test_wrapping_twice_gives_different_ciphertexts():
    master, transfer_key = MasterKey(KEY), new_key()
    assert master.wrap(transfer_key, context=b"t") != master.wrap(transfer_key, context=b"t")


def test_a_tampered_wrapped_key_is_refused_wherever_it_is_changed():
    master = MasterKey(KEY)
    wrapped = master.wrap(new_key(), context=b"t")
    for index in range(len(wrapped)):
        changed = bytearray(wrapped)
        changed[index] ^= 0x01
        with pytest.raises(DecryptionError):
            master.unwrap(bytes(changed), context=b"t")
    for cut in (b"", wrapped[:-1], wrapped + b"\x00"):
        with pytest.raises(DecryptionError):
            master.unwrap(cut, context=b"t")


def test_the_key_id_is_stable_distinct_and_reveals_nothing():
    text = base64.b64encode(KEY).decode()
    master = MasterKey.from_text(text)
    assert master.key_id == MasterKey(KEY).key_id
    assert len(master.key_id) == 16
    assert int(master.key_id, 16) >= 0  # hex
    assert master.key_id != MasterKey(OTHER_KEY).key_id
    for written in (KEY.hex(), text, base64.urlsafe_b64encode(KEY).decode()):
        assert master.key_id not in written
        assert written not in repr(master)
    assert master.key_id in repr(master)


def test_the_master_key_must_be_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKey(bytes(16))
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKey(KEY).wrap(bytes(16), context=b"t")


# --- Small sealed values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext", [b"", b"Report for the social worker.pdf", "Ünïcödé".encode() * 100]
)
def test_a_sealed_value_opens_with_its_key_and_context_only(plaintext):
    sealed = seal(KEY, plaintext, context=b"message:1")
    assert open_sealed(KEY, sealed, context=b"message:1") == plaintext
    assert len(sealed) == crypto.NONCE_BYTES + len(plaintext) + TAG_BYTES
    with pytest.raises(DecryptionError):
        open_sealed(KEY, sealed, context=b"message:2")
    with pytest.raises(DecryptionError):
        open_sealed(OTHER_KEY, sealed, context=b"message:1")


def test_a_tampered_or_short_sealed_value_is_refused():
    sealed = seal(KEY, b"a file name.docx", context=b"file-name:1")
    for index in range(len(sealed)):
        changed = bytearray(sealed)
        changed[index] ^= 0x40
        with pytest.raises(DecryptionError):
            open_sealed(KEY, bytes(changed), context=b"file-name:1")
    for short in (b"", sealed[: crypto.NONCE_BYTES + TAG_BYTES - 1]):
        with pytest.raises(DecryptionError):
            open_sealed(KEY, short, context=b"file-name:1")


def test_sealing_twice_gives_different_ciphertexts():
    assert seal(KEY, b"same", context=b"c") != seal(KEY, b"same", context=b"c")


def test_keys_are_fresh_and_32_bytes():
    keys = {new_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(key) == KEY_BYTES for key in keys)


@pytest.mark.parametrize("length", [0, 16, 24, 33])
def test_a_key_of_the_wrong_length_is_a_programming_error(length):
    key = bytes(length)
    with pytest.raises(ValueError, match="32 bytes"):
        seal(key, b"x", context=b"c")
    with pytest.raises(ValueError, match="32 bytes"):
        open_sealed(key, bytes(40), context=b"c")
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_stream(key, io.BytesIO(b"x"), io.BytesIO(), context=b"c")
    with pytest.raises(ValueError, match="32 bytes"):
        decrypt_to(key, io.BytesIO(encrypted(b"x")), io.BytesIO(), context=b"c")


# --- decode_key: how the setting is read ---------------------------------------------------------


def awkward_key() -> bytes:
    """A key whose base64 has both characters that differ between the alphabets."""
    key = bytes([0xFB, 0xFF, 0xBF] * 10 + [0x00, 0x01])
    assert "+" in base64.b64encode(key).decode()
    assert "/" in base64.b64encode(key).decode()
    return key


def test_both_base64_alphabets_are_read():
    key = awkward_key()
    assert decode_key(base64.b64encode(key).decode()) == key
    assert decode_key(base64.urlsafe_b64encode(key).decode()) == key


def test_surrounding_whitespace_and_missing_padding_are_forgiven():
    key = awkward_key()
    text = base64.urlsafe_b64encode(key).decode()
    assert decode_key(f"  {text}\n") == key
    assert decode_key(text.rstrip("=")) == key


@pytest.mark.parametrize("text", ["not base64 at all!", "abc$def", "a b c d"])
def test_text_that_is_not_base64_is_refused_saying_so(text):
    with pytest.raises(ValueError, match=r"^the key must be written in base64\.$"):
        decode_key(text)


@pytest.mark.parametrize("length", [0, 5, 31, 33, 64])
def test_a_key_of_the_wrong_length_is_refused_saying_how_long_it_is(length):
    text = base64.b64encode(bytes(length)).decode()
    with pytest.raises(ValueError, match=rf"^the key must be 32 bytes; this one is {length}\.$"):
        decode_key(text)
