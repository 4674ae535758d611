"""Builds Larder's components from the settings and runs the daemon.

``Unit`` assembles the parts once (models load here, at start, and stay warm) and hands them to the pipeline
through constructors. ``larder run``, ``larder listen`` and ``larder simulate`` all go through it, so they follow
the same path as the daemon. ``run_daemon`` runs the pipeline, the sync worker, the watchdog, the unit's page and
the watch on the store (what the CLI changes beside it) in one TaskGroup,
tells systemd READY only once the microphone, models and store are up, and shuts down cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from device.inventory.catalog import Catalogue
from device.memory import HeapTrimmer, libc_trim, limit_arenas
from device.pipeline.events import EventBus
from device.protocols import Audio, Microphone, Speaker
from device.settings import Settings

log = logging.getLogger(__name__)

DEMO = "demo"


def demo_recording() -> Path:
    """The bundled recording of a few spoken commands, wake word included."""
    return Path(str(resources.files("device.data").joinpath("demo.wav")))


@dataclass
class Unit:
    """Every component of one unit, built lazily from the settings and shared by the commands."""

    settings: Settings
    bus: EventBus = field(default_factory=EventBus)
    _catalogue_listeners: list[Callable[[Catalogue], None]] = field(default_factory=list)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    #: gives the models' freed heap back every 32 replies (``device/memory.py``)
    heap: HeapTrimmer = field(init=False)

    def __post_init__(self) -> None:
        limit_arenas()  # before any model allocates from a worker thread
        self.heap = HeapTrimmer(libc_trim())
        self.bus.subscribe(self.heap.on_event)

    @cached_property
    def store(self) -> Any:
        from device.inventory.store import Store

        return Store.from_settings(self.settings)

    @cached_property
    def catalogue(self) -> Catalogue:
        catalogue: Catalogue = self.store.catalogue()
        return catalogue

    @cached_property
    def grammar(self) -> Any:
        from device.intent.grammar import Grammar

        return Grammar(self.catalogue)

    @cached_property
    def resolver(self) -> Any:
        from device.intent.resolver import ChainResolver

        llm = None
        if self.settings.llm_base_url:
            from device.intent.llm import LlmResolver

            key = self.settings.llm_api_key
            llm = LlmResolver(
                base_url=self.settings.llm_base_url,
                model=self.settings.llm_model,
                api_key=key.get_secret_value() if key else None,
                catalogue=self.catalogue,
                timeout_s=self.settings.llm_timeout_s,
                max_quantity=self.settings.max_quantity,
            )
            self._closers.append(llm.aclose)
        resolver = ChainResolver(self.grammar, llm, min_confidence=self.settings.min_confidence)
        self._catalogue_listeners.append(resolver.set_catalogue)
        return resolver

    @cached_property
    def whisper(self) -> Any:
        from device.stt.whisper import WhisperEngine

        return WhisperEngine.from_settings(self.settings)

    @cached_property
    def stt(self) -> Any:
        from device.intent.resolver import reads_as_command
        from device.stt.failover import build_speech_to_text
        from device.stt.whisper import WhisperSpeechToText

        def accept(text: str) -> bool:
            return reads_as_command(self.grammar.parse(text), self.settings.min_confidence)

        readings = None
        if self.settings.score_readings:
            from device.intent.readings import GrammarReadings

            readings = GrammarReadings(self.catalogue, self.settings.min_confidence)
            self._catalogue_listeners.append(readings.set_catalogue)
        local = WhisperSpeechToText(self.whisper, self.catalogue, accept=accept, readings=readings)
        engine = build_speech_to_text(self.settings, self.catalogue, local)
        link = getattr(engine, "link", None)  # Deepgram with Whisper behind it
        if link is not None:  # the page and the light hear when Deepgram stops answering
            link.on_change = self.connectivity("speech")
        self._catalogue_listeners.append(engine.set_catalogue)
        if hasattr(engine, "close"):
            self._closers.append(engine.close)
        return engine

    def connectivity(self, part: str) -> Callable[[bool, str], None]:
        """A ``Link.on_change`` that publishes ``Connectivity`` for ``part`` on the bus (from the loop's thread)."""
        from device.pipeline.events import Connectivity

        def changed(online: bool, reason: str) -> None:
            self.bus.publish(Connectivity(part=part, online=online, reason=reason))

        return changed

    @cached_property
    def vad(self) -> Any:
        from device.vad import SileroVad

        return SileroVad(webrtc_gate=self.settings.vad_gate)

    @cached_property
    def wake(self) -> Any:
        from device.wake import MicroWakeWordDetector

        return MicroWakeWordDetector.from_settings(self.settings, transcribe=self.wake_check)

    def wake_check(self, audio: Audio, prompt: str) -> str:
        """Whisper's check of a borderline wake, on the unit's warm model."""
        text: str = self.whisper.transcribe(audio, prompt=prompt).text
        return text

    @cached_property
    def tts(self) -> Any:
        from device.tts import PiperTts

        cache = self.settings.tts_cache_dir or self.settings.data_dir / "tts-cache"
        return PiperTts(cache_dir=cache, volume=self.settings.volume)

    @cached_property
    def dialogue(self) -> Any:
        from device.dialogue import Dialogue, PolicyConfig
        from device.inventory.apply import Inventory

        inventory = Inventory(self.store, max_quantity=self.settings.max_quantity)
        return Dialogue(
            inventory,
            self.store,
            PolicyConfig.from_settings(self.settings),
            window_s=self.settings.confirm_window_s,
        )

    def microphone(self, source: str | None, *, realtime: bool) -> Microphone:
        """A WAV file (``demo`` is the bundled recording) or the configured sound device."""
        if source:
            from device.audio.wav import WavMicrophone

            path = demo_recording() if source == DEMO else Path(source)
            return WavMicrophone(path, realtime=realtime)
        from device.audio.microphone import SoundDeviceMicrophone

        return SoundDeviceMicrophone(
            self.settings.mic_device, self.settings.mic_channel, retry_s=self.settings.mic_retry_s
        )

    def speaker(self, replies_dir: Path | None, *, device: bool) -> Speaker:
        if device:
            from device.audio.speaker import SoundDeviceSpeaker

            return SoundDeviceSpeaker(self.settings.speaker_device)
        from device.audio.wav import RecordingSpeaker

        return RecordingSpeaker(out_dir=replies_dir)

    def pipeline(
        self,
        microphone: Microphone,
        speaker: Speaker,
        *,
        wake: bool = True,
        clock: Callable[[], float] | None = time.time,
        is_muted: Callable[[float], bool] = lambda now: False,
        semantic: bool | None = None,
        timeouts: Any = None,
    ) -> Any:
        """The voice pipeline over ``microphone``; ``semantic`` overrides ``LARDER_SEMANTIC_ENDPOINTING``,
        ``timeouts`` (``StageTimeouts``) the time box of each stage."""
        from device.pipeline.endpointing import EndpointConfig
        from device.pipeline.runner import VoicePipeline
        from device.pipeline.semantic import SemanticConfig
        from device.pipeline.speaking import ReplySpeaker

        settings = self.settings
        if semantic is not None:
            settings = settings.model_copy(update={"semantic_endpointing": semantic})

        return VoicePipeline(
            microphone=microphone,
            wake=self.wake if wake else None,
            vad=self.vad,
            endpoint=EndpointConfig.from_settings(self.settings),
            stt=self.stt,
            resolver=self.resolver,
            dialogue=self.dialogue,
            speaker=ReplySpeaker(self.tts, speaker),
            bus=self.bus,
            clock=clock,
            followup_s=self.settings.followup_s,
            preroll_s=self.settings.preroll_s,
            draft_after_s=self.settings.draft_after_s,
            is_muted=is_muted,
            semantic=SemanticConfig.from_settings(settings),
            judge=self.judge,
            preview=self.preview,
            timeouts=timeouts,
        )

    def judge(self, text: str) -> Any:
        """Semantic endpointing's verdict on the words heard so far (``device.pipeline.semantic.judge``)."""
        from device.pipeline.semantic import Closers, SemanticConfig, judge

        return judge(
            text,
            self.grammar.parse(text),
            Closers.of(self.catalogue),
            min_confidence=max(self.settings.min_confidence, SemanticConfig.min_confidence),
        )

    def preview(self, text: str) -> str | None:
        """What the unit would say first to ``text`` if the grammar reads it plainly and the dialogue would apply
        or answer it now without a question (``Dialogue.preview``); nothing is written."""
        from device.intent.resolver import reads_as_command

        command = self.grammar.parse(text)
        if not reads_as_command(command, self.settings.min_confidence):
            return None
        reply: str | None = self.dialogue.preview(command)
        return reply

    def catalogue_changed(self, catalogue: Catalogue) -> None:
        """A new catalogue (import or download) reaches the grammar and the speech prompts without a restart."""
        self.__dict__["catalogue"] = catalogue
        self.__dict__.pop("grammar", None)  # the speech-to-text's command test builds it anew
        for listener in self._catalogue_listeners:
            listener(catalogue)

    def warm_up(self) -> None:
        """Load every model now, so the first command is as fast as the rest."""
        _ = self.stt, self.vad, self.tts, self.resolver, self.dialogue
        self.whisper.warm_up()
        self.tts.prerender(
            [
                "Sorry, I didn't catch that.",
                "Okay.",
                "Cancelled.",
                "Nothing to undo.",
                "Press confirm or say yes.",
            ]
        )

    async def aclose(self) -> None:
        """Say goodbye to cloud connections (Deepgram CloseStream, the LLM client), then close the store."""
        for closer in self._closers:
            with contextlib.suppress(Exception):
                await closer()
        self._closers.clear()
        self.close()

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()


async def run_daemon(
    unit: Unit, source: str | None, *, replies_dir: Path | None, realtime: bool, stay: bool = False
) -> int:
    """The daemon: pipeline + sync + watchdog + the page in one TaskGroup, READY once everything is up.

    ``stay``: with a file for input, keep running (the page, sync) after it ends, until SIGTERM or Ctrl-C.
    """
    from device.service import Notifier, Watchdog

    notifier = Notifier.from_env()
    microphone = unit.microphone(source, realtime=realtime)
    speaker = unit.speaker(replies_dir, device=source is None)
    await asyncio.to_thread(unit.warm_up)
    from device.gpio import MuteState

    mute = MuteState()
    clock = None if source and not realtime else time.time  # a file played fast keeps its own time
    pipeline = unit.pipeline(metered(unit, microphone), speaker, clock=clock, is_muted=mute.is_muted)
    page: Any = None

    async def open_page() -> None:  # beside the first chunks: the page adds nothing to the time before READY
        nonlocal page
        page = await serve_page(unit, pipeline)

    watchdog = Watchdog.from_env(notifier)
    started = False

    def heartbeat() -> None:
        nonlocal started
        watchdog.heartbeat()
        if not started:  # READY only once the microphone delivers audio (models and store are up by now)
            started = True
            notifier.ready("listening")

    pipeline.heartbeat = heartbeat
    leds = _start_leds(unit)
    buttons = _start_buttons(unit, pipeline, mute)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with asyncio.TaskGroup() as group:
            listen = group.create_task(pipeline.run())
            group.create_task(open_page())  # left to finish, so a page that started is stopped below
            group.create_task(watchdog.run())
            sync = _sync_task(unit, group)
            follow = group.create_task(follow_store(unit))
            done = group.create_task(stop.wait())
            await asyncio.wait({done} if stay else {listen, done}, return_when=asyncio.FIRST_COMPLETED)
            notifier.stopping()
            for task in (listen, done, sync, follow):
                if task is not None:
                    task.cancel()
            watchdog.stop()
    finally:
        if page is not None:
            await page.stop()
        await microphone.close()
        await speaker.close()
        if buttons is not None:
            buttons.close()
        if leds is not None:
            leds.close()
    return 0


def metered(unit: Unit, microphone: Microphone) -> Microphone:
    """The microphone, with its level published on the bus once a second for the unit's page (when it is on)."""
    if not unit.settings.web_enabled:
        return microphone
    from device.audio.level import LevelMeter

    return LevelMeter(microphone, unit.bus)


async def serve_page(unit: Unit, pipeline: Any) -> Any:
    """The unit's page for this pipeline (``device/web``), or ``None`` when it is off or cannot listen."""
    if not unit.settings.web_enabled:
        return None
    from device.pipeline.events import WakeChecked

    def page_code() -> Any:  # imported in a worker thread: the event loop keeps serving the pipeline
        from device.web import actions, server, views  # noqa: F401

        return server.open_page

    open_page = await asyncio.to_thread(page_code)
    loop = asyncio.get_running_loop()
    if pipeline.wake is not None and hasattr(pipeline.wake, "on_check"):  # checks run in a worker thread
        pipeline.wake.on_check = lambda check: loop.call_soon_threadsafe(
            unit.bus.publish, WakeChecked(score=check.score, accepted=check.accepted)
        )
    page = await open_page(unit, announce=pipeline.announce, clock=pipeline.clock)
    if page is not None:
        print(f"larder: the unit's page is at {page.url}", file=sys.stderr, flush=True)
    return page


async def follow_store(unit: Unit) -> None:
    """Follow what the CLI writes beside the daemon: a new catalogue reaches the grammar and the speech prompts,
    and every change reaches the pages (``StoreChanged``)."""
    from device.inventory.watch import StoreWatcher
    from device.pipeline.events import StoreChanged

    def changed(catalogue: Catalogue | None) -> None:
        if catalogue is not None:
            log.info("the catalogue changed on disk: %d items", len(catalogue.items))
            unit.catalogue_changed(catalogue)
        unit.bus.publish(StoreChanged(catalogue=catalogue is not None))

    await StoreWatcher(unit.store, changed).run()


def _sync_task(unit: Unit, group: asyncio.TaskGroup) -> asyncio.Task[None] | None:
    """Upload the journal and download catalogue changes in the background; a new journal event nudges it."""
    if not unit.settings.supabase_url:
        return None
    from cloud_sync.identity import make_remote
    from cloud_sync.worker import SyncWorker
    from device.pipeline.events import Event, Outcome

    worker = SyncWorker(
        unit.store, make_remote(unit.settings), unit.settings, on_catalogue=unit.catalogue_changed
    )
    worker.link.on_change = unit.connectivity("sync")

    def nudge(event: Event) -> None:
        if isinstance(event, Outcome) and event.event_id:
            worker.nudge()

    unit.bus.subscribe(nudge)
    return group.create_task(worker.run())


def _start_leds(unit: Unit) -> Any:
    from device.leds import open_status_light

    return open_status_light(unit.settings, unit.bus)


def _start_buttons(unit: Unit, pipeline: Any, mute: Any) -> Any:
    """Buttons settle questions, start push-to-talk, and a long press of cancel mutes (rush hour)."""
    from device.dialogue.buttons import ButtonActions
    from device.gpio import open_buttons
    from device.pipeline.events import StateChanged

    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def announce(turn: Any) -> None:
        task = loop.create_task(pipeline.announce(turn))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    actions = ButtonActions(
        unit.dialogue,
        mute,
        mute_s=unit.settings.mute_s,
        clock=time.time,
        on_turn=announce,
        on_push_to_talk=lambda which: pipeline.push_to_talk(),
        on_mute=lambda muted: unit.bus.publish(StateChanged(state="muted" if muted else "idle")),
    )
    return open_buttons(unit.settings, loop, on_press=actions.press, on_long_press=actions.long_press)
