"""Hostile bytes: the loader answers with an image or a PhotoSkipped, never a crash or a hang."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.errors import PhotoSkipped
from helpers.images import LoadOptions, load_photo_bytes

SEEDS = ["gps/DSCN0010.jpg", "png_alpha/pil123rgba.png", "gif/dispose_bgnd.gif", "heic/samplefilehub.heif",
         "webp_avif_jxl/flower.webp", "tiff/hopper.tif", "webp_avif_jxl/exif.avif", "progressive_jpeg/portrait.jpg"]
HEADERS = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"II*\x00", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
           b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x1cftypavif", b"BM", b""]
OPTIONS = LoadOptions(min_side=64, max_megapixels=40)


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging: a decoder stuck in a loop would otherwise stall the suite."""

    def expire(*_):
        raise TimeoutError(f"decoding took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _must_load_or_skip(data: bytes) -> None:
    with deadline(20):
        try:
            photo = load_photo_bytes(data, OPTIONS)
        except PhotoSkipped as skipped:
            assert skipped.reason
            return
    assert photo.image.mode == "RGB" and min(photo.image.size) >= 1


@pytest.fixture(scope="module")
def seeds(messy: Path) -> list[bytes]:
    return [(messy / rel).read_bytes() for rel in SEEDS]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from(HEADERS), body=st.binary(max_size=4096))
def test_random_bytes_behind_image_signatures(header: bytes, body: bytes) -> None:
    _must_load_or_skip(header + body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_real_files(seeds: list[bytes], data) -> None:
    original = data.draw(st.sampled_from(seeds))
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 12))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(8, len(mutated)))
    _must_load_or_skip(bytes(mutated[:cut]))
