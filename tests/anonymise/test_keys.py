"""The pseudonymisation key: from a key file or the environment, and at least 16 bytes."""

from __future__ import annotations

import pytest

from infoshare.anonymise.keys import ENVIRONMENT_VARIABLE, UnusableKey, read_key

KEY = "a-test-key-of-more-than-sixteen-bytes"


def test_a_key_file_is_read_as_bytes_without_its_trailing_newline(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(KEY.encode() + b"\n")
    assert read_key(path, environ={}) == KEY.encode()


def test_a_key_file_written_on_windows_loses_its_crlf_too(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(KEY.encode() + b"\r\n")
    assert read_key(str(path), environ={}) == KEY.encode()


def test_only_the_last_newline_is_trimmed_other_bytes_are_the_key(tmp_path):
    raw = b"\x00\xff binary key material \t\n"
    path = tmp_path / "key"
    path.write_bytes(raw + b"\n")
    assert read_key(path, environ={}) == raw


def test_the_key_file_wins_over_the_environment(tmp_path):
    path = tmp_path / "key"
    path.write_text(KEY)
    assert read_key(path, environ={ENVIRONMENT_VARIABLE: "another-key-from-the-environment"}) == (
        KEY.encode()
    )


def test_the_environment_variable_is_read_as_utf8():
    assert read_key(environ={ENVIRONMENT_VARIABLE: "clé-secrète-de-l'école"}) == (
        "clé-secrète-de-l'école".encode()
    )


def test_the_process_environment_is_read_by_default(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    assert read_key() == KEY.encode()


def test_no_key_anywhere_is_none_so_the_plan_check_can_say_what_needs_one():
    assert read_key(environ={}) is None
    assert read_key(environ={ENVIRONMENT_VARIABLE: ""}) is None


@pytest.mark.parametrize("length", [0, 1, 15])
def test_a_short_key_file_is_refused_with_its_length(tmp_path, length):
    path = tmp_path / "key"
    path.write_bytes(b"k" * length + b"\n")
    with pytest.raises(UnusableKey, match=f"{length} bytes; .* at least 16"):
        read_key(path, environ={})


def test_a_key_of_exactly_sixteen_bytes_is_enough(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(b"k" * 16)
    assert read_key(path, environ={}) == b"k" * 16


def test_a_short_environment_key_is_refused_naming_the_variable():
    with pytest.raises(UnusableKey, match=ENVIRONMENT_VARIABLE):
        read_key(environ={ENVIRONMENT_VARIABLE: "short"})


def test_sixteen_bytes_of_utf8_count_as_bytes_not_characters():
    # Eight two-byte characters: 16 bytes, so long enough.
    assert read_key(environ={ENVIRONMENT_VARIABLE: "é" * 8}) == ("é" * 8).encode()
    with pytest.raises(UnusableKey):
        read_key(environ={ENVIRONMENT_VARIABLE: "é" * 7})


def test_a_missing_key_file_is_named(tmp_path):
    with pytest.raises(UnusableKey, match="does not exist"):
        read_key(tmp_path / "nowhere", environ={})


def test_a_folder_is_not_a_key_file(tmp_path):
    with pytest.raises(UnusableKey, match="is a folder"):
        read_key(tmp_path, environ={})
