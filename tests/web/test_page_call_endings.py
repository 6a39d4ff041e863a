"""How the demo page tells the user that the agent transferred the call or hung up, in Debian's real
headless Chromium. The server is a protocol stand-in for the native protocol at /ws (no models): it
serves the real page, answers ``start`` with ``ready`` and then ends the call the way the real server
does (``transfer`` then ``ended`` ``transferred``, or ``ended`` ``agent_ended``) and closes."""

from __future__ import annotations

import asyncio
import http
import json
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tests.conftest import free_port
from voiceagent.server import _response, _static

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  "--autoplay-policy=no-user-gesture-required"]
stand_in_ending = ["transfer"]  # which of ENDINGS the stand-in plays (set by each test)
ENDINGS = {
    "transfer": [{"type": "transfer", "to": "+15550142"}, {"type": "ended", "reason": "transferred"}],
    "hangup": [{"type": "ended", "reason": "agent_ended"}],
}


def page_files(connection: ServerConnection, request: Request) -> Response | None:
    path = request.path.split("?", 1)[0]
    if path == "/personas":
        body = json.dumps([{"name": "tester", "description": "stand-in", "default": True}]).encode()
        return _response(http.HTTPStatus.OK, body, "application/json")
    return None if path.startswith("/ws") else _static(path)


async def native_stand_in(connection: ServerConnection) -> None:
    """``start`` -> ``ready`` -> the ending the running test chose (``stand_in_ending``), then the close."""
    start = json.loads(await connection.recv())
    await connection.send(json.dumps({"type": "ready", "call_id": "c1", "sample_rate": start["sample_rate"],
                                      "persona": "tester", "models": {}, "budgets": {}, "protocol": 1}))
    await asyncio.sleep(0.3)
    for event in ENDINGS[stand_in_ending[0]]:
        await connection.send(json.dumps(event))
    await connection.close(1000, event["reason"])


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: list[asyncio.Future[None]] = []

    async def main() -> None:
        async with serve(native_stand_in, "127.0.0.1", port, process_request=page_files):
            stop.append(loop.create_future())
            ready.set()
            await stop[0]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{port}/"
    loop.call_soon_threadsafe(stop[0].set_result, None)
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.mark.parametrize(("ending", "status", "said"), [
    ("transfer", "Transferred", ["Transferring you to +15550142", "Transferred to +15550142"]),
    ("hangup", "Call ended", ["The agent ended the call"]),
])
def test_the_page_says_how_the_agent_ended_the_call(browser: Any, page_url: str, ending: str, status: str,
                                                     said: list[str]) -> None:
    stand_in_ending[0] = ending
    page = browser.new_page()
    page.goto(page_url)
    page.wait_for_selector("#persona option", state="attached")
    page.click("#call")
    page.wait_for_function("(v => v.endReason !== null && !['live', 'connecting'].includes(v.status))"
                           "(window.voiceagent)", timeout=15_000)  # the call is over, however the page took it
    assert page.inner_text("#status") == status
    assert page.locator(".bubble.system").all_inner_texts() == said
    assert page.inner_text("#notice") == said[-1] and "info" in (page.get_attribute("#notice", "class") or "")
    assert page.inner_text("#call") == "Call"  # ready for another call, not "The call dropped"
    page.close()
