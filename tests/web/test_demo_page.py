"""The browser demo page in Debian's real headless Chromium: a real recording is the fake microphone,
the page calls the real server over /ws, and the transcript, the agent's reply and played agent audio
must show up in the page. Saves a screenshot to artifacts/demo-page.png."""

from __future__ import annotations

import shutil
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import RunningServer, recording
from voiceagent.audio.pcm import float_to_pcm16
from voiceagent.client import load_audio

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    return path


@pytest.fixture(scope="module")
def caller_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 s of silence (the greeting plays), then JFK, as a 48 kHz WAV for Chromium's fake microphone."""
    out = tmp_path_factory.mktemp("mic") / "caller.wav"
    speech = load_audio(recording("jfk.flac"), 48000)
    audio = np.concatenate([np.zeros(5 * 48000, dtype=np.float32), speech, np.zeros(48000, dtype=np.float32)])
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(48000)
        wav.writeframes(float_to_pcm16(audio))
    return out


@pytest.fixture
def browser(chromium_path: str, caller_wav: Path) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path,
            args=[*CHROMIUM_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-audio-capture={caller_wav}%noloop"],
        )
        yield browser
        browser.close()


def test_a_call_from_the_page(browser: Any, server: RunningServer) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 860})
    page.goto(f"{server.http}/")
    page.wait_for_selector("#persona option", state="attached")
    assert page.locator("#persona option").count() >= 2
    page.click("#call")
    page.wait_for_function("window.voiceagent.status === 'live'", timeout=20_000)
    page.wait_for_function(
        """() => { const v = window.voiceagent;
            return v.transcripts.length > 0 && v.agentTexts.some(t => t.kind === 'reply' && t.turn > 0)
                && v.turns.some(t => t.outcome === 'answered') && v.audioSecondsPlayed > 1.0; }""",
        timeout=60_000,
    )
    stats = page.evaluate("window.voiceagent")
    said = " ".join(stats["transcripts"]).lower()
    assert "america" in said or "country" in said  # tiny.en hears "Americans" as "America" at times
    assert page.locator(".bubble.caller").count() >= 1
    assert page.locator(".bubble.agent").count() >= 2  # greeting and a reply
    assert page.locator(".metrics .timing i").count() >= 3
    assert page.locator("#turn-ms").inner_text().strip().isdigit()
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-page.png"))
    page.click("#call")  # hang up
    page.wait_for_function("window.voiceagent.status === 'idle'", timeout=10_000)
    assert page.locator("#call").inner_text() == "Call"


def test_denied_microphone_and_unreachable_server_are_explained(chromium_path: str, server: RunningServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=[*CHROMIUM_FLAGS, "--deny-permission-prompts"])
        page = browser.new_page()
        page.goto(f"{server.http}/")
        page.wait_for_selector("#persona option", state="attached")
        page.click("#call")
        page.wait_for_selector("#notice:not([hidden])", timeout=10_000)
        assert "Microphone" in page.inner_text("#notice")

        blocked = browser.new_page()
        blocked.route("**/personas", lambda route: route.abort())
        blocked.goto(f"{server.http}/")
        blocked.wait_for_selector("#notice:not([hidden])", timeout=10_000)
        assert "not reachable" in blocked.inner_text("#notice")
        browser.close()
