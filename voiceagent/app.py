"""The composition root: the one place that builds the engines, personas, pre-synthesised phrases,
registry of calls and the servers, wires them together and runs them.

Layers, top to bottom (each imports only from layers below it; ``make test`` checks this with
import-linter): app -> server -> transports -> pipeline -> actions -> stages -> engines -> audio, config.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal

from voiceagent import memory, records, security
from voiceagent.actions.runner import ActionRunner
from voiceagent.actions.store import ActionStore
from voiceagent.actions.webhook import WebhookClient
from voiceagent.config import Settings
from voiceagent.engines.loader import load_engines
from voiceagent.personas import load_personas
from voiceagent.pipeline.phrases import PhraseBank
from voiceagent.server import VoiceAgentServer
from voiceagent.stages.reply_load import ReplyLoad
from voiceagent.transports.endpoints import serve_audiosocket
from voiceagent.transports.registry import CallRegistry
from voiceagent.transports.session import Switchboard

log = logging.getLogger(__name__)


async def build_switchboard(settings: Settings) -> Switchboard:
    """Load the personas and the engines, warm the model with every persona's prompt and
    pre-synthesise every fixed phrase. Raises ValueError for an unknown default persona."""
    personas = load_personas(settings.prompts_dir)
    if settings.persona not in personas:
        raise ValueError(f"persona {settings.persona!r} is not in {settings.prompts_dir} ({', '.join(personas)})")
    # The default persona last, so its system prompt is the one left in the model's cache.
    order = sorted(personas.values(), key=lambda p: p.name == settings.persona)
    engines = await load_engines(settings, [p.system for p in order])
    phrases = await PhraseBank.build(engines.tts, personas.values())
    return Switchboard(settings, engines, phrases, personas, CallRegistry(settings.max_calls, ReplyLoad(limit_ms=settings.admit_reply_p95_ms)), actions=make_runner(settings))


def make_runner(settings: Settings) -> ActionRunner:
    """What carries out the personas' actions: the SQLite store at ``actions_db``, and the webhook client."""
    webhooks = WebhookClient(settings.webhook_secret, settings.webhook_timeout_s, settings.webhook_retries)
    return ActionRunner(ActionStore(settings.actions_db), webhooks)


async def run_server(settings: Settings, ready: asyncio.Event | None = None, *, sip: bool = False) -> None:
    """Load the engines, listen, serve until cancelled or SIGTERM/SIGINT. ``sip`` also starts the SIP
    endpoint. On a signal: stop accepting calls, give calls in progress ``shutdown_grace_s`` to finish,
    end the rest (their records are written), then exit."""
    security.check_exposure(settings)
    records.configure_redaction(settings.redact)  # call records and log lines (see SECURITY.md)
    if settings.malloc_mmap_threshold_kb or settings.malloc_arena_max:  # before the engines' threads start
        memory.tune_malloc(settings.malloc_mmap_threshold_kb, settings.malloc_arena_max)
    if not security.is_loopback(settings.host) and (settings.audiosocket_port or sip):
        log.warning("AudioSocket and SIP carry no token: restrict them to your PBX's address with a firewall")
    log.info("loading models and warming them up ...")
    board = await build_switchboard(settings)
    engines = board.engines
    app = VoiceAgentServer(board)
    server = await app.start()
    for sock in server.sockets:
        host, port = sock.getsockname()[:2]
        log.info("listening on ws://%s:%d/ws (health: /healthz, metrics: /metrics)", host, port)
    audiosocket = await serve_audiosocket(board, settings) if settings.audiosocket_port else None
    if audiosocket is not None:
        log.info("AudioSocket (Asterisk) on tcp://%s:%d", settings.host, settings.audiosocket_port)
    gateway = None
    if sip:
        from voiceagent.transports.sip import run_sip  # PJSIP is loaded only when SIP is wanted

        gateway = await run_sip(settings, board)
    log.info("models: %s", engines.models())
    log.info("budgets (%s profile): %s", settings.profile, dataclasses.asdict(settings.budgets))
    if ready is not None:
        ready.set()
    retention = records.Retention.for_records(settings.retention_days, settings.records_dir, also={
        "messages and past appointments": ActionStore(settings.actions_db).prune})
    retention.start()  # now, then hourly, off the event loop; nothing when retention_days is 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not the main thread
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        log.info("shutting down: no new calls; %d in progress get up to %.0f s", len(board.calls.sessions),
                 settings.shutdown_grace_s)
        board.calls.accepting = False
        ended = await board.calls.drain(settings.shutdown_grace_s)
        log.info("shutdown: %d calls ended by the server; records written", ended)
    finally:
        await retention.stop()
        if gateway is not None:
            await gateway.stop()
        if audiosocket is not None:
            audiosocket.close()
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
        await engines.close()
        if board.actions is not None:
            await board.actions.close()
