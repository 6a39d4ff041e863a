"""Twilio's REST API, for what a Media Stream cannot say: hand the caller to a person, and hang up.

Both update the live call ("modify a call in progress"): ``POST {twilio_api_base}/2010-04-01/Accounts/
{AccountSid}/Calls/{CallSid}.json``, form-encoded, with HTTP basic auth (account SID, auth token).
``Twiml=<Response><Dial>...</Dial></Response>`` replaces the TwiML the call is running, which ends the
``<Connect><Stream>`` (Twilio closes the stream) and dials the person; ``Status=completed`` ends the call.
Hanging up this way matters because closing a bidirectional stream only makes Twilio go on with the TwiML
after ``<Connect>`` (if there is any, the caller stays on the line). See docs/protocol-actions.md.
"""

from __future__ import annotations

import logging
import re
from xml.sax.saxutils import escape

import httpx

from voiceagent.config import Settings
from voiceagent.transports.call_control import ControlFailed

log = logging.getLogger(__name__)

REST_TIMEOUT_S = 5.0  # Twilio answers in well under a second; the caller waits in silence meanwhile
SID = re.compile(r"[A-Za-z0-9-]{1,64}")  # AC..., CA... (a SignalWire project's UUID): safe as path segments
PHONE = re.compile(r"\+?[0-9]{2,20}")
SIP_URI = re.compile(r"sips?:[^\s<>\"']{1,250}", re.IGNORECASE)
SEPARATORS = re.compile(r"[\s().-]")


def dial_twiml(to: str) -> str:
    """The TwiML that hands the caller to ``to``: ``<Dial>`` with a phone number (``tel:`` and separators
    allowed), or ``<Dial><Sip>`` with a SIP URI. Raises :class:`ControlFailed` for anything else."""
    target = to.strip()
    if SIP_URI.fullmatch(target):
        return f"<Response><Dial><Sip>{escape(target)}</Sip></Dial></Response>"
    number = SEPARATORS.sub("", target.removeprefix("tel:"))
    if PHONE.fullmatch(number):
        return f"<Response><Dial>{number}</Dial></Response>"
    raise ControlFailed(f"{to[:80]!r} is neither a phone number nor a SIP URI")


class TwilioRest:
    """Transfers and hang-ups of ``/twilio`` calls through Twilio's REST API, with the account in
    ``settings`` (``twilio_account_sid``, ``twilio_auth_token``, ``twilio_api_base``)."""

    name = "twilio_rest"

    def __init__(self, settings: Settings, timeout_s: float = REST_TIMEOUT_S) -> None:
        self._account = settings.twilio_account_sid
        self._token = settings.twilio_auth_token
        self._base = settings.twilio_api_base.rstrip("/")
        self._timeout_s = timeout_s

    @property
    def missing(self) -> list[str]:
        """The settings that must be set before the REST API can be used."""
        return [name for name, value in (("twilio_account_sid", self._account),
                                         ("twilio_auth_token", self._token)) if not value]

    async def transfer(self, ref: str, to: str) -> None:
        """Give the call ``ref`` (a CallSid) new TwiML that dials ``to``."""
        await self._update(ref, {"Twiml": dial_twiml(to)})
        log.info("twilio call %s: handed to %s", ref, to)

    async def hang_up(self, ref: str) -> None:
        """End the call ``ref``; without credentials, closing the stream is all that can be done."""
        if self.missing:
            log.debug("twilio call %s: %s not set, so only the stream is closed", ref, " and ".join(self.missing))
            return
        await self._update(ref, {"Status": "completed"})
        log.info("twilio call %s: ended through the REST API", ref)

    async def _update(self, call_sid: str, form: dict[str, str]) -> None:
        if self.missing:
            raise ControlFailed(f"{' and '.join(self.missing)} not set: Twilio's REST API cannot be used")
        if not SID.fullmatch(self._account):
            raise ControlFailed("twilio_account_sid is not an account SID (AC...)")
        if not SID.fullmatch(call_sid):
            raise ControlFailed(f"the stream gave no usable callSid ({call_sid[:40]!r})")
        url = f"{self._base}/2010-04-01/Accounts/{self._account}/Calls/{call_sid}.json"
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.post(url, data=form, auth=(self._account, self._token))
        except httpx.HTTPError as exc:
            raise ControlFailed(f"Twilio's REST API ({self._base}) failed: {type(exc).__name__} {exc}".strip()) from exc
        if not response.is_success:
            raise ControlFailed(f"Twilio's REST API answered {response.status_code}: {_reason(response)}")


def _reason(response: httpx.Response) -> str:
    """Twilio's own words for a refusal (its JSON ``code`` and ``message``), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and "message" in body:
        return f"{body['message']} (code {body.get('code', '?')})"[:300]
    return response.text[:200]
