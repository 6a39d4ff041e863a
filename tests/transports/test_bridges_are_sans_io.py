"""The bridges' state machines do no I/O: importing them loads no event loop, no socket server, no call
pipeline (checked in a fresh interpreter, so nothing else the tests loaded hides an import)."""

from __future__ import annotations

import json
import subprocess
import sys

BRIDGES = ["native", "twilio", "asterisk_ws", "audiosocket"]
FORBIDDEN = ["asyncio", "websockets.asyncio", "voiceagent.pipeline", "voiceagent.engines",
             "voiceagent.transports.session", "voiceagent.transports.socket_loop", "voiceagent.transports.links"]


def test_bridge_modules_import_no_io() -> None:
    code = (
        "import json, sys\n"
        + "".join(f"import voiceagent.transports.{name}\n" for name in BRIDGES)
        + f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(result.stdout) == []
