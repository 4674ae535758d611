"""Doctor check for the wake word's sensitivity at this site, from the last ``larder wake test --input FILE``
over a recording of the kitchen at work (``device/wake/site.py``)."""

from __future__ import annotations

from device.doctor import CheckResult, passed, warned
from device.settings import Settings

RECORD_HINT = (
    "record about 10 minutes of the kitchen at work with nobody saying the wake word "
    "(arecord -f S16_LE -r 16000 -c 1 -d 600 site.wav), then run `larder wake test --input site.wav`"
)
SHORT_S = 300.0  # under this, a recording says little about an hour


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def check_wake(settings: Settings) -> CheckResult:
    from device.wake.site import MAX_FALSE_WAKES_PER_HOUR, SENSITIVITIES, SiteResult

    result = SiteResult.load(settings.data_dir)
    configured = settings.wake_sensitivity
    if result is None:
        return warned("wake", f"sensitivity {configured}; no site recording tested yet", RECORD_HINT)
    if result.model != settings.wake_model.value:
        return warned(
            "wake",
            f"the site test of {result.file} heard the {result.model} model; this unit uses "
            f"{settings.wake_model.value}",
            RECORD_HINT,
        )
    suggested = result.suggested
    figures = ", ".join(f"{s} {result.per_hour(s):.1f}" for s in result.wakes)
    heard = (
        f"{_duration(result.seconds)} of {result.file} ({result.measured_at}), false wakes an hour: {figures}"
    )
    limit = f"at most {MAX_FALSE_WAKES_PER_HOUR:g} false wake an hour"
    if result.wakes[suggested] > MAX_FALSE_WAKES_PER_HOUR * result.seconds / 3600:
        return warned(
            "wake",
            f"sensitivity {configured}; even low wakes too often here: {heard}",
            "set LARDER_WAKE_SENSITIVITY=low in the env file and keep the unit away from radios and speakers",
        )
    if result.seconds < SHORT_S:
        return warned(
            "wake", f"sensitivity {configured}, {suggested} suggested from only {heard}", RECORD_HINT
        )
    if suggested == configured:
        return passed("wake", f"sensitivity {configured} suits this site; {heard}")
    if SENSITIVITIES.index(suggested) > SENSITIVITIES.index(configured):
        reason = f"it wakes for more cooks in noise and stays within {limit} here"
    else:
        reason = f"{configured} wakes too often here; the aim is {limit}"
    return warned(
        "wake",
        f"sensitivity {configured}, {suggested} suggested from {heard}",
        f"set LARDER_WAKE_SENSITIVITY={suggested} in the env file ({reason}), then restart the service",
    )
