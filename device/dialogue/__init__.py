"""Dialogue: the confirmation policy, pending questions, cancel/undo and follow-ups (voice, ``larder say``,
buttons).
"""

from device.dialogue.manager import Dialogue, Turn
from device.dialogue.policy import Decision, Mode, PolicyConfig, decide

__all__ = ["Decision", "Dialogue", "Mode", "PolicyConfig", "Turn", "decide"]
