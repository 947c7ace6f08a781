"""Secure transfer encryption benchmark: a 1 GiB file through `crypto.py` against raw AES-GCM.

    .venv/bin/python bench/transfers.py [--size-mib 1024] [--repeat 3]

Writes a file of random bytes (in 1 MiB pieces, never held whole) to a
temporary folder under /tmp, then measures, each in a fresh Python process so
that a phase's peak memory (getrusage maxrss) is its own:

0. baseline: `crypto` imported, nothing done (the memory every phase starts with);
1. raw: `cryptography`'s AESGCM.encrypt, then AESGCM.decrypt, over the same
   number of bytes in CHUNK_BYTES pieces from one reused in-memory buffer: the
   library's own throughput, no I/O, each direction timed apart;
2. copy: the file read in CHUNK_BYTES pieces and written as `crypto.py` writes
   (WRITE_BYTES at a time), in turn, no encryption: the disk's share of the
   time (not an aim; it says where the time goes when one is missed).
   `crypto.py` writes in a second thread while it encrypts the next chunk, so
   encrypt and decrypt can be faster than this;
3. encrypt: `encrypt_stream`, file to file;
4. decrypt: `decrypt_to`, file to file;
5. stream: `decrypt_stream` iterated to the end, nothing written (what a
   download response consumes; not an aim).

Raw, copy, encrypt, decrypt and stream run `--repeat` times (3), in turn; the
best time of each counts, as other work on the machine only ever slows a run
(every run's time is in the JSON too). Each phase that writes deletes its own
previous output just before it starts, so all three write into the same state
of the page cache: on a virtual machine that hands freed memory back to its
host, writing into memory just freed is much faster than into memory the
host must give again, which is why a first run is slower than the others.
Before each phase the parent flushes dirty pages (`os.sync`), so one phase's
write-back does not slow the next; no phase syncs its own output inside the
timed part (it measures encryption, not how fast the disk makes data durable).
After the runs, outside any timing, the decrypted file's SHA-256 is compared
with the original's.

Aims (issue 9): encrypt and decrypt each at least half the raw throughput of
the same direction, and every phase's peak memory under 100 MB. The phases
import `infoshare.transfers.crypto` only: no Django (each checks).
Prints a summary and writes bench/results/transfers.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as `python bench/transfers.py`, Python puts bench/ on the path, not the
# project root that infoshare is imported from.
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "transfers.json"
TARGET_RATIO = 0.5
TARGET_PEAK_BYTES = 100 * 1000 * 1000
MIB = 1024 * 1024
# A fixed key: the benchmark measures the work, not the key's secrecy.
BENCH_KEY = hashlib.sha256(b"infoshare transfers benchmark key").digest()
CONTEXT = b"file:benchmark"
PLAIN, ENCRYPTED, DECRYPTED, COPIED = "plain.bin", "encrypted.isx", "decrypted.bin", "copy.bin"
TIMED_PHASES = ("raw", "copy", "encrypt", "decrypt", "stream")


def main() -> None:
    options = parse_arguments()
    if options.phase:
        run_phase(options.phase, Path(options.folder), options.size_mib)
        return
    with tempfile.TemporaryDirectory(prefix="bench-transfers-") as folder:
        results = measure(options.size_mib, Path(folder), options.repeat)
    print_summary(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the file, in MiB")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase (the best)")
    # Internal: how the benchmark runs each phase in its own process.
    parser.add_argument("--phase", choices=("baseline", *TIMED_PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    return parser.parse_args()


# --- The parent: generate, run each phase, check, report -------------------------------------


def measure(size_mib: int, folder: Path, repeat: int) -> dict[str, Any]:
    load_before = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    write_random_file(folder / PLAIN, size_mib)
    generated = time.perf_counter() - started
    baseline = phase("baseline", folder, size_mib)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in TIMED_PHASES}
    for _ in range(repeat):  # in turn, so that a busy moment of the machine hits them all
        for name in TIMED_PHASES:
            runs[name].append(phase(name, folder, size_mib))
    best = {name: fastest(phase_runs) for name, phase_runs in runs.items()}
    intact = sha256_of(folder / PLAIN) == sha256_of(folder / DECRYPTED)
    return report(size_mib, folder, best, baseline, intact) | {
        "load_average_before": load_before,
        "generate_seconds": round(generated, 1),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def write_random_file(path: Path, size_mib: int) -> None:
    """`size_mib` MiB of random bytes, a MiB at a time (random: nothing compresses or dedupes)."""
    with path.open("wb") as file:
        for _ in range(size_mib):
            file.write(os.urandom(MIB))


def phase(name: str, folder: Path, size_mib: int) -> dict[str, Any]:
    """Run phase `name` in a fresh interpreter; returns what it printed (JSON)."""
    os.sync()  # the previous phase's dirty pages written back now, not during this one
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            name,
            "--folder",
            str(folder),
            "--size-mib",
            str(size_mib),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.exit(f"The {name} phase failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each direction's best time over the runs, every run's times, the highest peak of all."""
    keys = [key for key in runs[0] if key.endswith("_seconds")]
    return {
        **{key: min(run[key] for run in runs) for key in keys},
        **{f"{key.removesuffix('_seconds')}_runs": [run[key] for run in runs] for key in keys},
        "peak_bytes": max(run["peak_bytes"] for run in runs),
        "django_imported": any(run["django_imported"] for run in runs),
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def report(
    size_mib: int,
    folder: Path,
    best: dict[str, dict[str, Any]],
    baseline: dict[str, Any],
    intact: bool,
) -> dict[str, Any]:
    size = size_mib * MIB
    speeds = {
        "raw_encrypt": rate(size, best["raw"]["encrypt_seconds"]),
        "raw_decrypt": rate(size, best["raw"]["decrypt_seconds"]),
        "copy": rate(size, best["copy"]["copy_seconds"]),
        "encrypt": rate(size, best["encrypt"]["encrypt_seconds"]),
        "decrypt": rate(size, best["decrypt"]["decrypt_seconds"]),
        "stream": rate(size, best["stream"]["stream_seconds"]),
    }
    ratios = {
        "encrypt_to_raw": round(speeds["encrypt"] / speeds["raw_encrypt"], 2),
        "decrypt_to_raw": round(speeds["decrypt"] / speeds["raw_decrypt"], 2),
        # How close each gets to the disk, for when a ratio to raw is missed.
        "encrypt_to_copy": round(speeds["encrypt"] / speeds["copy"], 2),
        "decrypt_to_copy": round(speeds["decrypt"] / speeds["copy"], 2),
    }
    peaks = {name: figures["peak_bytes"] for name, figures in best.items()}
    from infoshare.transfers.crypto import CHUNK_BYTES, encrypted_size

    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "cryptography": cryptography_version(),
        "folder": str(folder.parent),
        "file_bytes": size,
        "encrypted_bytes": (folder / ENCRYPTED).stat().st_size,
        "encrypted_bytes_expected": encrypted_size(size),
        "chunk_bytes": CHUNK_BYTES,
        "mb_per_s": speeds,
        "ratios": ratios,
        "seconds": {name: seconds_of(figures) for name, figures in best.items()},
        "peak_rss_mib": {name: round(peak / MIB, 1) for name, peak in peaks.items()},
        # The interpreter with crypto imported: the part of every peak that no file changes.
        "baseline_peak_rss_mib": round(baseline["peak_bytes"] / MIB, 1),
        "decrypted_intact": intact,
        "django_imported": baseline["django_imported"]
        or any(figures["django_imported"] for figures in best.values()),
        "targets": {"ratio_to_raw": TARGET_RATIO, "peak_bytes": TARGET_PEAK_BYTES},
        "aims_met": {
            "encrypt_at_least_half_raw": ratios["encrypt_to_raw"] >= TARGET_RATIO,
            "decrypt_at_least_half_raw": ratios["decrypt_to_raw"] >= TARGET_RATIO,
            "peak_under_100_mb": max(peaks.values()) < TARGET_PEAK_BYTES,
        },
    }


def seconds_of(figures: dict[str, Any]) -> dict[str, Any]:
    """A phase's best seconds and every run's, by direction."""
    return {key: value for key, value in figures.items() if "seconds" in key or "_runs" in key}


def rate(size: int, seconds: float) -> float:
    """MB/s (10**6 bytes a second)."""
    return round(size / seconds / 1e6, 1)


def cryptography_version() -> str:
    from importlib.metadata import version

    return version("cryptography")


# --- A phase, in its own process ------------------------------------------------------------


def run_phase(name: str, folder: Path, size_mib: int) -> None:
    from infoshare.transfers import crypto

    result = PHASES[name](crypto, folder, size_mib)
    # Linux reports maxrss in KiB: this process's peak, imports included.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result |= {"peak_bytes": peak, "django_imported": "django" in sys.modules}
    print(json.dumps(result))


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return round(time.perf_counter() - started, 3)


def baseline(crypto: Any, folder: Path, size_mib: int) -> dict[str, Any]:
    """Nothing but the imports: the peak memory every other phase is measured above."""
    return {}


def raw(crypto: Any, folder: Path, size_mib: int) -> dict[str, Any]:
    """AESGCM over `size_mib` chunks of one reused buffer: the library's throughput, no I/O."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(BENCH_KEY)
    chunks = size_mib * MIB // crypto.CHUNK_BYTES
    plain = bytearray(os.urandom(crypto.CHUNK_BYTES))
    aad = bytes(crypto.HEADER_BYTES)  # as long as a stream's header, which is each chunk's AAD
    nonce = bytes(crypto.NONCE_BYTES)
    sealed = aead.encrypt(nonce, plain, aad)

    def encrypt() -> None:
        for index in range(chunks):
            aead.encrypt(index.to_bytes(crypto.NONCE_BYTES, "big"), plain, aad)

    def decrypt() -> None:
        for _ in range(chunks):
            aead.decrypt(nonce, sealed, aad)

    return {"encrypt_seconds": timed(encrypt), "decrypt_seconds": timed(decrypt)}


def copy(crypto: Any, folder: Path, size_mib: int) -> dict[str, Any]:
    """The file read and written as encrypt_stream does, without encrypting: the disk's part."""
    buffer = bytearray(crypto.CHUNK_BYTES)
    (folder / COPIED).unlink(missing_ok=True)

    def work() -> None:
        with (
            (folder / PLAIN).open("rb") as source,
            (folder / COPIED).open("wb") as sink,
            memoryview(buffer) as view,
        ):
            while size := source.readinto(buffer):
                for start in range(0, size, crypto.WRITE_BYTES):  # in pieces, as crypto.py writes
                    sink.write(view[start : min(size, start + crypto.WRITE_BYTES)])

    return {"copy_seconds": timed(work)}


def encrypt(crypto: Any, folder: Path, size_mib: int) -> dict[str, Any]:
    (folder / ENCRYPTED).unlink(missing_ok=True)

    def work() -> None:
        with (folder / PLAIN).open("rb") as source, (folder / ENCRYPTED).open("wb") as sink:
            crypto.encrypt_stream(BENCH_KEY, source, sink, context=CONTEXT)

    return {"encrypt_seconds": timed(work)}


def decrypt(crypto: Any, folder: Path, size_mib: int) -> dict[str, Any]:
    (folder / DECRYPTED).unlink(missing_ok=True)

    def work() -> None:
        with (folder / ENCRYPTED).open("rb") as source, (folder / DECRYPTED).open("wb") as sink:
            crypto.decrypt_to(BENCH_KEY, source, sink, context=CONTEXT)

    return {"decrypt_seconds": timed(work)}


def stream(crypto: Any, folder: Path, size_mib: int) -> dict[str, Any]:
    """decrypt_stream consumed to the end, as a download response would, nothing written."""

    def work() -> None:
        with (folder / ENCRYPTED).open("rb") as source:
            # Consumed and thrown away, as a response sends each chunk and keeps none.
            deque(crypto.decrypt_stream(BENCH_KEY, source, context=CONTEXT), maxlen=0)

    return {"stream_seconds": timed(work)}


PHASES: dict[str, Callable[[Any, Path, int], dict[str, Any]]] = {
    "baseline": baseline,
    "raw": raw,
    "copy": copy,
    "encrypt": encrypt,
    "decrypt": decrypt,
    "stream": stream,
}


# --- Report ------------------------------------------------------------------------------


def print_summary(results: dict[str, Any]) -> None:
    speeds, ratios, peaks, met = (
        results["mb_per_s"],
        results["ratios"],
        results["peak_rss_mib"],
        results["aims_met"],
    )
    print(
        f"Transfer encryption benchmark — Python {results['python']}, {results['machine']}, "
        f"cryptography {results['cryptography']}, load average "
        f"{results['load_average_before']} before, {results['load_average_after']} after"
    )
    print(
        f"  {results['file_bytes'] / MIB:,.0f} MiB file in {results['folder']}, "
        f"{results['chunk_bytes'] // 1024} KiB chunks; baseline peak "
        f"{results['baseline_peak_rss_mib']} MiB"
    )
    rows = [
        ("raw AES-GCM encrypt", "raw_encrypt", "raw"),
        ("raw AES-GCM decrypt", "raw_decrypt", "raw"),
        ("copy, no encryption", "copy", "copy"),
        ("encrypt_stream", "encrypt", "encrypt"),
        ("decrypt_to", "decrypt", "decrypt"),
        ("decrypt_stream, unwritten", "stream", "stream"),
    ]
    for label, speed, peak in rows:
        print(f"  {label:<27}{speeds[speed]:>9,.0f} MB/s   peak {peaks[peak]:>6} MiB")
    print(
        f"  aim: encrypt at least {TARGET_RATIO:g}x raw — {ratios['encrypt_to_raw']}x: "
        f"{verdict(met['encrypt_at_least_half_raw'])} "
        f"({ratios['encrypt_to_copy']}x the copy)"
    )
    print(
        f"  aim: decrypt at least {TARGET_RATIO:g}x raw — {ratios['decrypt_to_raw']}x: "
        f"{verdict(met['decrypt_at_least_half_raw'])} "
        f"({ratios['decrypt_to_copy']}x the copy)"
    )
    print(
        f"  aim: peak memory under {TARGET_PEAK_BYTES // 1_000_000} MB — "
        f"{max(peaks.values())} MiB: {verdict(met['peak_under_100_mb'])}"
    )
    print(f"  decrypted file identical to the original: {results['decrypted_intact']}")
    if results["django_imported"]:
        print("  WARNING: crypto.py imported Django")


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


if __name__ == "__main__":
    main()
