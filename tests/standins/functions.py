"""The real Supabase Edge Functions (``cloud_sync/supabase/functions/<name>``), run with ``deno run`` for tests.

Each function is started on first use, listening on 127.0.0.1 with a port the OS picks (it prints the address),
with the environment Supabase gives functions (``SUPABASE_URL``, ``SUPABASE_ANON_KEY``,
``SUPABASE_SERVICE_ROLE_KEY``) pointing at the gateway stand-in. Deno is the one ``scripts/setup.sh --dev``
installs from the npm registry; remote and npm imports are off, so nothing is fetched.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "cloud_sync" / "supabase" / "functions"
DENO = ROOT / "tools" / "deno" / "node_modules" / ".bin" / "deno"
LISTENING = re.compile(r"listening on http://([0-9.]+):(\d+)/")


class EdgeFunction:
    """One function's ``deno run`` process. ``url`` starts it; ``stop()`` ends it."""

    def __init__(self, name: str, env: dict[str, str], *, timeout_s: float = 60.0) -> None:
        self.name = name
        self.env = env
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self._lock = threading.Lock()
        self.output: list[str] = []

    @property
    def url(self) -> str:
        with self._lock:
            if self._url is None:
                self._url = self._start()
            return self._url

    def _start(self) -> str:
        entry = FUNCTIONS / self.name / "index.ts"
        if not entry.is_file():
            raise FileNotFoundError(f"no Edge Function {self.name} ({entry})")
        if not DENO.exists():
            raise RuntimeError(f"Deno is not installed at {DENO}: run scripts/setup.sh --dev")
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DENO_DIR", "TMPDIR")},
            **self.env,
            "PROVISION_LISTEN": "127.0.0.1:0",
            "DENO_NO_UPDATE_CHECK": "1",
            "NO_COLOR": "1",
        }
        self._proc = subprocess.Popen(
            [str(DENO), "run", "--no-remote", "--no-npm", "--allow-net", "--allow-env", str(entry)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=entry.parent,
        )
        found: list[str] = []
        done = threading.Event()

        def read() -> None:
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                self.output.append(line.rstrip())
                match = LISTENING.search(line)
                if match and not found:
                    found.append(f"http://{match[1]}:{match[2]}")
                    done.set()
            done.set()

        threading.Thread(target=read, name=f"deno-{self.name}", daemon=True).start()
        if not done.wait(self.timeout_s) or not found:
            self.stop()
            raise RuntimeError(f"the {self.name} function did not start: {' | '.join(self.output[-10:])}")
        return found[0]

    def stop(self) -> None:
        proc, self._proc, self._url = self._proc, None, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            with contextlib.suppress(OSError):
                proc.stdout.close()
