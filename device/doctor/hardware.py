"""Doctor checks for the hardware and models: microphone, speaker, buttons and LEDs, every model loads."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from device.doctor import CheckResult, elapsed, failed, passed, warned
from device.doctor.system import service_running
from device.errors import AudioError, GpioError, LarderError
from device.settings import Settings


def _busy(name: str, exc: LarderError) -> CheckResult:
    """A device the running daemon holds is not a fault: say so instead of failing."""
    if service_running():
        return warned(
            name,
            f"in use by the running service ({exc.message})",
            "to test it alone: sudo systemctl stop larder",
        )
    return failed(name, exc.message, exc.hint)


def check_microphone(settings: Settings) -> CheckResult:
    import asyncio

    import numpy as np

    from device.audio.devices import find_device
    from device.audio.microphone import SoundDeviceMicrophone

    info = find_device("input", settings.mic_device)
    if settings.mic_channel >= info.channels:
        return failed(
            "microphone",
            f"{info.describe()} has no channel {settings.mic_channel}",
            f"set LARDER_MIC_CHANNEL to 0-{info.channels - 1}",
        )
    problems: list[AudioError] = []

    async def listen() -> list[Any]:
        """About one second of audio, or stop at the first problem the microphone reports (or after 3 s)."""
        chunks: list[Any] = []
        trouble = asyncio.Event()

        def problem(error: AudioError) -> None:
            problems.append(error)
            trouble.set()

        microphone = SoundDeviceMicrophone(
            str(info.index), settings.mic_channel, retry_s=0.2, on_problem=problem
        )

        async def read() -> None:
            # closed here, not at interpreter exit: PortAudio's callback must not outlive the stream it feeds
            async with contextlib.aclosing(microphone.chunks()) as stream:
                async for chunk in stream:
                    chunks.append(chunk)
                    if len(chunks) >= 32:
                        return

        tasks = {asyncio.create_task(read()), asyncio.create_task(trouble.wait())}
        try:
            await asyncio.wait(tasks, timeout=3.0, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # SoundDeviceMicrophone.close() can raise QueueFull when its queue is full: the audio is measured already
            with contextlib.suppress(asyncio.QueueFull):
                await microphone.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return chunks

    chunks = asyncio.run(listen())
    if not chunks:
        if problems:
            return _busy("microphone", problems[0])
        return failed(
            "microphone",
            f"{info.name} opened but delivered no audio in 3 s",
            "replug it, or try another USB port",
        )
    audio = np.concatenate(chunks).astype(np.float64)
    peak = float(np.max(np.abs(audio)))
    if peak == 0:
        return failed(
            "microphone",
            f"{info.name} channel {settings.mic_channel} hears only digital silence",
            "check it is not muted (alsamixer) and LARDER_MIC_CHANNEL picks a live channel",
        )
    level = 20 * np.log10(max(float(np.sqrt(np.mean(audio**2))), 1e-9) / 32768)
    where = f"{info.name} channel {settings.mic_channel}: level {level:.0f} dBFS"
    if level < -75:
        return warned("microphone", f"{where}, very quiet", "raise its capture gain (alsamixer)")
    return passed("microphone", where)


def check_speaker(settings: Settings) -> CheckResult:
    import asyncio

    import numpy as np

    from device.audio.devices import find_device
    from device.audio.speaker import SoundDeviceSpeaker

    info = find_device("output", settings.speaker_device)
    rate = 16_000
    t = np.arange(int(rate * 0.25)) / rate
    tone = (np.sin(2 * np.pi * 880 * t) * 3000 * np.minimum(1.0, settings.volume)).astype(np.int16)
    speaker = SoundDeviceSpeaker(str(info.index))
    try:
        asyncio.run(speaker.play(tone, rate))
    except AudioError as exc:
        return _busy("speaker", exc)
    return passed("speaker", f"played a short beep on {info.name}")


def _on_raspberry_pi() -> bool:
    try:
        with open("/proc/device-tree/model", encoding="utf-8", errors="replace") as handle:
            return "Raspberry Pi" in handle.read()
    except OSError:
        return False


def check_gpio(settings: Settings, pin_factory: Any = None) -> CheckResult:
    import warnings

    from gpiozero import LED, Button
    from gpiozero.exc import BadPinFactory, GPIOZeroError, PinFactoryFallback

    from device.gpio import pin_thread_errors_logged
    from device.settings import LedKind

    if not settings.gpio:
        return passed("gpio", "turned off (LARDER_GPIO=false): no buttons or LEDs")
    leds: tuple[int, ...] = ()
    if settings.led != LedKind.NONE:
        from device.leds import led_pins

        leds = led_pins(settings)
    pins = {"confirm": settings.confirm_pin, "cancel": settings.cancel_pin} | {
        f"led{i}": p for i, p in enumerate(leds)
    }
    if len(set(pins.values())) < len(pins):
        return failed("gpio", f"two parts share a pin: {pins}", "give each button and LED its own BCM pin")
    opened: list[Any] = []
    try:
        with warnings.catch_warnings(), pin_thread_errors_logged():
            warnings.simplefilter("ignore", PinFactoryFallback)
            for name in ("confirm", "cancel"):
                opened.append(Button(pins[name], pull_up=True, pin_factory=pin_factory))
            for pin in leds:
                opened.append(LED(pin, pin_factory=pin_factory))
        for led in opened[2:]:  # a visible blink; the buttons settle meanwhile
            led.blink(on_time=0.2, off_time=0.2, n=1, background=False)
        if len(opened) == 2:
            time.sleep(0.3)
        stuck = [
            name for name, button in zip(("confirm", "cancel"), opened, strict=False) if button.is_pressed
        ]
    except BadPinFactory:
        if _on_raspberry_pi():
            return failed(
                "gpio",
                "no GPIO library works on this Pi",
                "reinstall Larder (it needs lgpio): sudo scripts/install.sh",
            )
        return warned(
            "gpio",
            "this machine has no GPIO: buttons and LEDs are off",
            "set LARDER_GPIO=false if that is intended",
        )
    except GPIOZeroError as exc:
        return _busy(
            "gpio", GpioError(f"cannot use pins {sorted(pins.values())}: {exc}", hint="pick free BCM pins")
        )
    finally:
        for device in opened:
            device.close()
    described = f"confirm pin {settings.confirm_pin}, cancel pin {settings.cancel_pin}, LED pins {list(leds) or 'none'}"
    if stuck:
        return warned(
            "gpio",
            f"{' and '.join(stuck)} reads pressed now ({described})",
            "check the wiring: buttons go to ground",
        )
    return passed("gpio", f"{described}; LEDs blinked once")


def check_models(settings: Settings) -> CheckResult:
    """Load every model the daemon loads (and speak one word), reporting each one that fails."""
    from device.stt.whisper import WhisperEngine
    from device.tts import PiperTts
    from device.vad import SileroVad
    from device.wake import MicroWakeWordDetector

    def whisper() -> str:
        return str(WhisperEngine.from_settings(settings).name)

    def piper() -> str:
        tts = PiperTts(volume=settings.volume)
        return f"piper voice ({len(tts.render('Ready.')) / tts.sample_rate:.1f} s test phrase)"

    def wake() -> str:
        return f"wake word {MicroWakeWordDetector.from_settings(settings).model}"

    def vad() -> str:
        SileroVad()
        return "silero vad"

    started = time.perf_counter()
    loaded: list[str] = []
    problems: list[str] = []
    hints: list[str] = []
    for load in (whisper, piper, wake, vad):
        try:
            loaded.append(load())
        except LarderError as exc:
            problems.append(exc.message)
            if exc.hint:
                hints.append(exc.hint)
    if problems:
        return failed("models", "; ".join(problems), "; ".join(dict.fromkeys(hints)) or None)
    return passed("models", f"{', '.join(loaded)}: loaded in {elapsed(started)}")
