"""``voiceagent sip``: a SIP endpoint (PJSIP, through its pjsua2 Python binding) that answers calls and
bridges their audio to the pipeline.

Softphones, SIP trunks and PBXs call it directly, or it registers to a PBX with the credentials in the
configuration. PCMU and PCMA are offered (and telephone-event, RFC 4733, for DTMF); PJSIP does SIP, SDP,
RTP and jitter buffering. Its conference bridge runs at 8 kHz here, so caller audio reaches the call at
the line's own rate and is resampled once, by soxr, for the 16 kHz models.

Threads: every pjsua2 call happens on one thread that polls PJSIP's events; the media clock calls
:class:`LinePort` from PJSIP's own media thread every 20 ms. What crosses goes through one hand-off each
way: the asyncio side hears of calls, audio and keys through ``call_soon_threadsafe`` (as plain values:
the table of sessions is read and changed on the event loop only), agent audio waits in a locked
:class:`~voiceagent.audio.line_buffer.LineBuffer`, and hang-ups and transfers (REFER, :mod:`sip_transfer`)
go through a queue the PJSIP thread drains. A call the agent ends (``agent_ended``, ``transferred``, a limit) is hung up
with a BYE.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import gc
import logging
import queue
import threading
import time
from typing import Any

import pjsua2 as pj

from voiceagent import __version__
from voiceagent.config import Settings
from voiceagent.pipeline.tasks import TaskSet
from voiceagent.transports.session import CallSession, Switchboard, TooManyCalls, UnknownPersona, start_call
from voiceagent.transports.sip_media import RATE, LinePort, SipOutput
from voiceagent.transports.sip_transfer import TransferDesk

log = logging.getLogger(__name__)
_ONE_ENDPOINT = threading.Lock()  # held by the thread that owns this process's PJSIP Endpoint

class _SipCall(pj.Call):  # type: ignore[misc]
    """One SIP call and the voiceagent :class:`Call` it carries."""

    def __init__(self, gateway: SipGateway, account: pj.Account, call_id: int) -> None:
        super().__init__(account, call_id)
        self.gateway = gateway
        self.sip_id = call_id
        self.output = SipOutput(functools.partial(gateway.transfer, call_id))
        self.port: LinePort | None = None
        self.transferring = False  # a REFER was sent (PJSIP thread)

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.gateway.disconnected(self, info.lastReason or "hangup")

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE and self.port is None:
                audio = self.getAudioMedia(media.index)
                fmt = pj.MediaFormatAudio()
                fmt.init(pj.PJMEDIA_FORMAT_PCM, RATE, 1, 20000, 16)
                self.port = LinePort(self.output, functools.partial(self.gateway.caller_audio, self.sip_id))
                self.port.createPort(f"va{info.id}", fmt)
                audio.startTransmit(self.port)
                self.port.startTransmit(audio)
                self.gateway.media_ready(self, info)

    def onCallTransferStatus(self, prm: Any) -> None:
        self.gateway.transfer_status(self.sip_id, prm.statusCode, prm.reason, prm.finalNotify)

    def onDtmfDigit(self, prm: Any) -> None:
        self.gateway.loop.call_soon_threadsafe(self.gateway.caller_key, self.sip_id, str(prm.digit))


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, gateway: SipGateway) -> None:
        super().__init__()
        self.gateway = gateway

    def onIncomingCall(self, prm: Any) -> None:
        self.gateway.incoming(self, prm.callId)

    def onRegState(self, prm: Any) -> None:
        log.info("sip registration: %s %s", prm.code, prm.reason)


class SipGateway:
    """Runs PJSIP on its own thread and bridges each answered call to a voiceagent :class:`Call`."""

    def __init__(self, board: Switchboard, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
        self.board = board
        self.settings = settings
        self.loop = loop
        # pjsua2 objects live and die on the PJSIP thread: kept here while in use, then in a graveyard
        # that thread empties, so no C++ destructor ever runs on the event loop's thread.
        self._calls: dict[int, _SipCall] = {}
        self._graveyard: list[tuple[float, _SipCall]] = []
        self.sessions: dict[int, CallSession] = {}  # by PJSIP call id; touched on the event loop only
        self._commands: queue.Queue[tuple[str, int, str]] = queue.Queue()  # (command, call id, argument)
        self.transfers = TransferDesk()  # REFERs in flight; event loop only
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self._account: _Account | None = None
        self._endings = TaskSet()  # calls being ended after the SIP side hung up
        self._thread = threading.Thread(target=self._run, name="pjsip", daemon=True)

    # ------------------------------------------------------------ lifecycle (asyncio side)
    async def start(self) -> None:
        """Start PJSIP and listen; raises if it cannot (port in use ...)."""
        self._thread.start()
        await asyncio.to_thread(self._ready.wait)
        if self._failure is not None:
            raise RuntimeError(f"SIP endpoint failed to start: {self._failure}") from self._failure

    async def stop(self) -> None:
        """Hang up every call and shut PJSIP down."""
        self._stopping.set()
        await asyncio.to_thread(self._thread.join, 10)

    # ------------------------------------------------------------ PJSIP thread
    def _run(self) -> None:
        # PJSIP allows one Endpoint per process: a gateway started while an earlier one is still shutting
        # down (a restart, or one test after another) waits for it instead of aborting the process.
        if not _ONE_ENDPOINT.acquire(timeout=30):
            self._failure = RuntimeError("an earlier SIP endpoint of this process did not shut down")
            self._ready.set()
            return
        try:
            self._serve()
        finally:
            gc.collect()  # the Endpoint object goes now (its destructor frees PJSIP's one instance)
            _ONE_ENDPOINT.release()

    def _serve(self) -> None:
        endpoint = pj.Endpoint()
        try:
            self._init(endpoint)
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._failure = exc
            self._ready.set()
            with contextlib.suppress(Exception):
                endpoint.libDestroy()
            return
        self._ready.set()
        try:
            while not self._stopping.is_set():
                endpoint.libHandleEvents(10)
                self._drain_commands()
                while self._graveyard and self._graveyard[0][0] < time.monotonic() - 5:
                    self._graveyard.pop(0)
            endpoint.hangupAllCalls()
            for _ in range(20):
                endpoint.libHandleEvents(10)
        finally:
            self._calls.clear()
            self._graveyard.clear()
            self._account = None
            gc.collect()  # any pjsua2 object still unreferenced goes now, on this thread
            endpoint.libDestroy()

    def _init(self, endpoint: pj.Endpoint) -> None:
        settings = self.settings
        endpoint.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0  # events are polled on this thread
        config.uaConfig.mainThreadOnly = False
        config.uaConfig.userAgent = f"voiceagent/{__version__}"
        config.logConfig.level = 2
        config.logConfig.consoleLevel = 2 if log.isEnabledFor(logging.DEBUG) else 0
        config.medConfig.clockRate = RATE
        config.medConfig.sndClockRate = RATE
        config.medConfig.channelCount = 1
        config.medConfig.noVad = True
        config.medConfig.ecTailLen = 0
        endpoint.libInit(config)
        transport = pj.TransportConfig()
        transport.port = settings.sip_port
        if settings.host not in ("0.0.0.0", "::"):
            transport.boundAddress = settings.host
        if settings.sip_public_address:
            transport.publicAddress = settings.sip_public_address
        endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
        endpoint.libStart()
        endpoint.audDevManager().setNullDev()
        for codec in endpoint.codecEnum2():
            priority = {"PCMU/8000/1": 255, "PCMA/8000/1": 254}.get(codec.codecId, 0)
            endpoint.codecSetPriority(codec.codecId, priority)
        account_config = pj.AccountConfig()
        address = settings.sip_public_address or settings.host
        account_config.mediaConfig.transportConfig.port = settings.sip_rtp_port
        if settings.sip_registrar:
            host = settings.sip_registrar.removeprefix("sip:").removeprefix("sips:")
            account_config.idUri = f"sip:{settings.sip_user}@{host}"
            account_config.regConfig.registrarUri = settings.sip_registrar
            account_config.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", "*", settings.sip_user, 0, settings.sip_password))
        else:
            account_config.idUri = f"sip:voiceagent@{address}:{settings.sip_port}"
        self._account = _Account(self)
        self._account.create(account_config)
        log.info("SIP endpoint on udp://%s:%d (RTP from port %d)%s", address, settings.sip_port,
                 settings.sip_rtp_port, f", registering to {settings.sip_registrar}" if settings.sip_registrar else "")

    def _drain_commands(self) -> None:
        while True:
            try:
                command, call_id, argument = self._commands.get_nowait()
            except queue.Empty:
                return
            call = self._calls.get(call_id)
            if command == "hangup" and call is not None:
                param = pj.CallOpParam()
                param.statusCode = pj.PJSIP_SC_OK
                with contextlib.suppress(Exception):
                    call.hangup(param)
            elif command == "transfer":
                self._refer(call, call_id, argument)

    def _refer(self, call: _SipCall | None, call_id: int, uri: str) -> None:
        """Send the REFER; its answer and NOTIFYs come back through :meth:`transfer_status`."""
        if call is None:
            self.transfer_status(call_id, pj.PJSIP_SC_CALL_TSX_DOES_NOT_EXIST, "the call is over", True)
            return
        try:
            call.xfer(uri, pj.CallOpParam(True))
            call.transferring = True
        except Exception as exc:  # noqa: BLE001 - pjsua2 raises its own Error for a bad URI or dialog state
            detail = exc.reason if isinstance(exc, pj.Error) else str(exc)
            self.transfer_status(call_id, pj.PJSIP_SC_INTERNAL_SERVER_ERROR, f"REFER not sent: {detail}", True)

    def transfer_status(self, call_id: int, status: int, reason: str, final: bool) -> None:
        """News of a REFER (PJSIP thread): handed to the :class:`TransferDesk` on the event loop."""
        self.loop.call_soon_threadsafe(self.transfers.progress, call_id, status, reason, final)

    def incoming(self, account: pj.Account, call_id: int) -> None:
        """A new INVITE: answer it (the session starts once media is up)."""
        call = _SipCall(self, account, call_id)
        self._calls[call_id] = call
        param = pj.CallOpParam()
        param.statusCode = pj.PJSIP_SC_OK if self._admitted() else pj.PJSIP_SC_BUSY_HERE
        call.answer(param)

    def _admitted(self) -> bool:
        """Whether one more call is taken: asked of the event loop, which owns the registry (PJSIP thread;
        a loop that does not answer within 2 s means no)."""
        try:
            return asyncio.run_coroutine_threadsafe(self._admit(), self.loop).result(timeout=2)
        except (concurrent.futures.TimeoutError, RuntimeError):
            return False

    def caller_audio(self, call_id: int, pcm: bytes) -> None:
        """Caller audio from the media thread, handed as it is to the event loop."""
        self.loop.call_soon_threadsafe(self._caller_audio, call_id, pcm)

    def media_ready(self, call: _SipCall, info: Any) -> None:
        """RTP flows: start the voiceagent call on the event loop."""
        details = {"sip_call_id": info.callIdString, "remote": info.remoteUri}
        self.loop.call_soon_threadsafe(self._start_session, call.sip_id, call.output, details)

    def disconnected(self, call: _SipCall, reason: str) -> None:
        """The SIP call is over (either side); after a REFER it counts as transferred."""
        self.loop.call_soon_threadsafe(self.transfers.gone, call.sip_id)
        self.loop.call_soon_threadsafe(self._end_session, call.sip_id,
                                       "transferred" if call.transferring else "caller_hangup")
        if self._calls.pop(call.sip_id, None) is not None:
            self._graveyard.append((time.monotonic(), call))

    # ------------------------------------------------------------ event-loop side
    async def _admit(self) -> bool:
        try:
            self.board.calls.admit()
        except TooManyCalls as exc:
            log.warning("sip: refusing a call: %s", exc)
            return False
        return True

    def _caller_audio(self, call_id: int, pcm: bytes) -> None:
        session = self.sessions.get(call_id)
        if session is not None:
            session.call.push_audio(pcm)

    def caller_key(self, call_id: int, digit: str) -> None:
        """A keypad press for the call (event loop)."""
        session = self.sessions.get(call_id)
        if session is not None:
            session.call.push_dtmf(digit)

    def _start_session(self, call_id: int, output: SipOutput, details: dict[str, str]) -> None:
        async def hang_up(_: str) -> None:  # the call ended here (a limit, a failure, shutdown)
            self._commands.put(("hangup", call_id, ""))

        try:
            session = start_call(self.board, self.settings, output, sample_rate=RATE, transport="sip",
                                 details=details, on_own_end=hang_up)
        except (UnknownPersona, TooManyCalls) as exc:
            log.warning("sip: %s", exc)
            self._commands.put(("hangup", call_id, ""))
            return
        self.sessions[call_id] = session

    async def transfer(self, call_id: int, to: str) -> None:
        """The call's output got a Transfer event: REFER the caller to ``to``; returns with the outcome."""
        session = self.sessions.get(call_id)
        if session is None:
            log.warning("sip: no call to transfer to %s", to)
            return
        await self.transfers.transfer(session.call, call_id, to, registrar=self.settings.sip_registrar,
                                      send=lambda uri: self._commands.put(("transfer", call_id, uri)))

    def _end_session(self, call_id: int, reason: str) -> None:
        session = self.sessions.pop(call_id, None)
        if session is not None:
            self._endings.start(session.end(reason))


async def run_sip(settings: Settings, board: Switchboard) -> SipGateway:
    """Start the SIP endpoint on the running loop."""
    gateway = SipGateway(board, settings, asyncio.get_running_loop())
    await gateway.start()
    return gateway
