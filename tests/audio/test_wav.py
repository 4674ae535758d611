"""WAV reading in many formats, clear errors on bad files, the WAV microphone (chunking, padding, pacing,
closing) and the recording speaker."""

from __future__ import annotations

import asyncio
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from device.audio.wav import RecordingSpeaker, WavMicrophone, parse_wav, read_wav, write_wav
from device.errors import AudioError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Microphone


def riff(tag: int, channels: int, rate: int, bits: int, data: bytes, *, extensible: bool = False) -> bytes:
    """A WAV file built by hand, so formats Python's ``wave`` cannot write are covered."""
    block = channels * bits // 8
    if extensible:
        guid = struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        fmt += struct.pack("<HHI", 22, bits, 0) + guid
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 4) + b"INFO"  # an extra chunk to skip
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    audio = (np.sin(np.arange(1600) / 5) * 20000).astype(np.int16)
    write_wav(tmp_path / "a.wav", audio, 22_050)
    back, rate = read_wav(tmp_path / "a.wav")
    assert rate == 22_050
    assert np.array_equal(back, audio)


def test_formats_wave_cannot_read() -> None:
    left = np.array([0.5, -0.5, 0.25], dtype=np.float32)
    right = np.array([0.5, 0.5, 0.25], dtype=np.float32)
    stereo_float = np.stack([left, right], axis=1).astype("<f4").tobytes()
    samples, rate = parse_wav(riff(3, 2, 48_000, 32, stereo_float))
    assert rate == 48_000 and samples.shape == (3, 2)
    assert np.allclose(samples[:, 1], right)

    # 24-bit PCM in WAVE_FORMAT_EXTENSIBLE: +0.5, -0.5 of full scale
    pcm24 = bytes([0x00, 0x00, 0x40, 0x00, 0x00, 0xC0])
    samples, rate = parse_wav(riff(1, 1, 44_100, 24, pcm24, extensible=True))
    assert rate == 44_100
    assert samples[:, 0].tolist() == [2**30, -(2**30)]

    unsigned8 = bytes([128, 255, 0])
    samples, _ = parse_wav(riff(1, 1, 8_000, 8, unsigned8))
    assert samples[:, 0].tolist() == [128, 255, 0]


def test_read_wav_downmixes_to_int16_mono(tmp_path: Path) -> None:
    stereo = np.array([[0.5, 0.0], [-0.5, -0.5]], dtype="<f4").tobytes()
    (tmp_path / "f.wav").write_bytes(riff(3, 2, 48_000, 32, stereo))
    audio, rate = read_wav(tmp_path / "f.wav")
    assert rate == 48_000 and audio.dtype == np.int16
    assert audio.tolist() == [8192, -16384]


def test_open_ended_data_size_reads_to_the_end() -> None:
    # espeak-ng --stdout writes 0xFFFFFFFF sizes because it streams.
    data = np.array([1, 2, 3], dtype="<i2").tobytes()
    wav = bytearray(riff(1, 1, 22_050, 16, data))
    wav[-len(data) - 4 : -len(data)] = struct.pack("<I", 0xFFFFFFFF)
    samples, _ = parse_wav(bytes(wav))
    assert samples[:, 0].tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a WAV file"),
        (b"ID3\x04 this is an mp3", "is not a WAV file"),
        (b"RIFF\x04\x00\x00\x00WAVE", "has no audio data chunk"),
        (riff(2, 1, 8000, 4, b"\x00" * 8), "unsupported sample format"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message) as caught:
        read_wav(path)
    assert str(path) in caught.value.message


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"cannot read the WAV file .*nope\.wav"):
        read_wav(tmp_path / "nope.wav")


def collect(mic: WavMicrophone, stop_after: int | None = None) -> list[np.ndarray]:
    async def run() -> list[np.ndarray]:
        out = []
        async for chunk in mic.chunks():
            out.append(chunk)
            if stop_after is not None and len(out) == stop_after:
                await mic.close()
        return out

    return asyncio.run(run())


def test_wav_microphone_chunks_pads_and_adds_tail_silence(tmp_path: Path) -> None:
    audio = np.arange(1, 1001, dtype=np.int16)
    write_wav(tmp_path / "c.wav", audio, SAMPLE_RATE)
    mic = WavMicrophone(tmp_path / "c.wav", tail_silence_s=0.1)
    assert isinstance(mic, Microphone)
    chunks = collect(mic)
    total = 1000 + 1600  # audio + 0.1 s of tail, rounded up to whole chunks
    assert len(chunks) == -(-total // CHUNK_SAMPLES)
    assert all(c.dtype == np.int16 and len(c) == CHUNK_SAMPLES for c in chunks)
    joined = np.concatenate(chunks)
    assert np.array_equal(joined[:1000], audio)
    assert not joined[1000:].any()


def test_wav_microphone_converts_any_wav_to_16k_mono(tmp_path: Path) -> None:
    t = np.arange(48_000) / 48_000
    stereo = np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 300 * t)], axis=1) * 0.5
    (tmp_path / "s.wav").write_bytes(riff(3, 2, 48_000, 32, stereo.astype("<f4").tobytes()))
    chunks = collect(WavMicrophone(tmp_path / "s.wav", tail_silence_s=0))
    joined = np.concatenate(chunks)
    assert len(joined) == -(-SAMPLE_RATE // CHUNK_SAMPLES) * CHUNK_SAMPLES
    assert np.abs(joined[:SAMPLE_RATE]).max() == pytest.approx(16384, rel=0.01)


def test_closing_stops_the_stream(tmp_path: Path) -> None:
    write_wav(tmp_path / "long.wav", np.zeros(SAMPLE_RATE * 5, dtype=np.int16), SAMPLE_RATE)
    assert len(collect(WavMicrophone(tmp_path / "long.wav"), stop_after=3)) == 3


def test_realtime_takes_about_the_audio_duration(tmp_path: Path) -> None:
    seconds = 0.5
    write_wav(tmp_path / "r.wav", np.zeros(int(SAMPLE_RATE * seconds), dtype=np.int16), SAMPLE_RATE)
    started = time.monotonic()
    realtime = collect(WavMicrophone(tmp_path / "r.wav", realtime=True, tail_silence_s=0))
    realtime_s = time.monotonic() - started
    started = time.monotonic()
    fast = collect(WavMicrophone(tmp_path / "r.wav", tail_silence_s=0))
    fast_s = time.monotonic() - started
    assert len(realtime) == len(fast)
    # The last chunk is released at (n - 1) chunk durations after the first.
    assert realtime_s >= (len(realtime) - 1) * CHUNK_SAMPLES / SAMPLE_RATE * 0.95
    assert fast_s < realtime_s


def test_a_bad_file_raises_from_chunks(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_text("not audio")
    with pytest.raises(AudioError, match="not a WAV file"):
        collect(WavMicrophone(tmp_path / "x.wav"))


def test_recording_speaker_keeps_and_writes_replies(tmp_path: Path) -> None:
    speaker = RecordingSpeaker(tmp_path / "out")
    first = np.full(100, 7, dtype=np.int16)
    second = np.full(50, -3, dtype=np.int16)

    async def run() -> None:
        await speaker.play(first, 22_050)
        await speaker.play(second, 16_000)
        await speaker.close()

    asyncio.run(run())
    assert [(a.tolist(), r) for a, r in speaker.played] == [
        (first.tolist(), 22_050),
        (second.tolist(), 16_000),
    ]
    audio, rate = read_wav(tmp_path / "out" / "reply-002.wav")
    assert rate == 16_000 and np.array_equal(audio, second)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["reply-001.wav", "reply-002.wav"]
