"""The transfer rule (where a REFER sends the caller) and the outcome of a REFER from PJSIP's reports,
without PJSIP: :mod:`voiceagent.transports.sip_transfer`."""

from __future__ import annotations

import asyncio

import pytest

from voiceagent.transports.sip_transfer import TransferDesk, sip_host, transfer_uri

CALLER = '"Ann" <sip:ann@pbx.example.com:5062>;tag=abc'


@pytest.mark.parametrize(("to", "uri"), [
    ("sip:frontdesk@pbx.example.com", "sip:frontdesk@pbx.example.com"),  # a URI is kept as it is
    ("SIPS:frontdesk@pbx.example.com;transport=tls", "SIPS:frontdesk@pbx.example.com;transport=tls"),
    ("  sip:frontdesk@pbx.example.com ", "sip:frontdesk@pbx.example.com"),
    ("<sip:frontdesk@pbx.example.com>", "sip:frontdesk@pbx.example.com"),
    ("+15550142", "sip:+15550142@pbx.example.com:5062"),  # a number goes to the caller's host and port
    ("+1 (555) 014-2", "sip:+15550142@pbx.example.com:5062"),
    ("555.0142", "sip:5550142@pbx.example.com:5062"),
    ("tel:+15550142", "sip:+15550142@pbx.example.com:5062"),
    ("102", "sip:102@pbx.example.com:5062"),  # an extension
    ("*72#", "sip:*72#@pbx.example.com:5062"),
])
def test_a_number_goes_to_the_callers_host_when_not_registered(to: str, uri: str) -> None:
    assert transfer_uri(to, registrar="", caller=CALLER) == uri


@pytest.mark.parametrize(("registrar", "uri"), [
    ("sip:registrar.example.com", "sip:+15550142@registrar.example.com"),
    ("sip:registrar.example.com:5080;transport=udp", "sip:+15550142@registrar.example.com:5080"),
    ("registrar.example.com", "sip:+15550142@registrar.example.com"),
    ("sip:[2001:db8::1]:5060", "sip:+15550142@[2001:db8::1]:5060"),
])
def test_a_number_goes_to_the_registrar_when_registered(registrar: str, uri: str) -> None:
    assert transfer_uri("+15550142", registrar=registrar, caller=CALLER) == uri


@pytest.mark.parametrize("to", ["", "  ", "front desk", "frontdesk@pbx.example.com", "+1555abc", "http://x"])
def test_neither_a_uri_nor_a_number_is_refused(to: str) -> None:
    with pytest.raises(ValueError, match="neither a SIP URI nor a phone number"):
        transfer_uri(to, registrar="sip:pbx.example.com", caller=CALLER)


@pytest.mark.parametrize("to", ["sip:", "sip:front desk@pbx.example.com", "sip:frontdesk@pbx.example.com>",
                                "sip:frontdesk@", 'sip:"x"@pbx.example.com'])
def test_a_malformed_uri_is_refused(to: str) -> None:
    with pytest.raises(ValueError, match="not a usable SIP URI"):
        transfer_uri(to, registrar="sip:pbx.example.com", caller=CALLER)


def test_a_number_with_no_host_known_is_refused() -> None:
    with pytest.raises(ValueError, match="no host"):
        transfer_uri("+15550142", registrar="", caller="")


@pytest.mark.parametrize(("uri", "host"), [
    ("<sip:127.0.0.1:5070>", "127.0.0.1:5070"),
    ("sip:caller@127.0.0.1:5070;tag=1", "127.0.0.1:5070"),
    ("Bob <sips:bob@example.com?subject=x>", "example.com"),
    ("", ""),
])
def test_sip_host(uri: str, host: str) -> None:
    assert sip_host(uri) == host


# ---------------------------------------------------------------- a REFER's outcome from PJSIP's reports
async def refer(desk: TransferDesk, *reports: tuple[int, str, bool], gone: bool = False) -> str:
    """Start a REFER on call 7, feed PJSIP's reports as the PJSIP thread would, return the outcome."""
    loop = asyncio.get_running_loop()
    sent: list[int] = []

    def send() -> None:
        sent.append(7)
        for status, reason, final in reports:
            loop.call_soon(desk.progress, 7, status, reason, final)
        if gone:
            loop.call_soon(desk.gone, 7)

    result = await desk.refer(7, send)
    assert sent == [7]
    return f"{result.outcome} {result.status} {result.reason}"


async def test_accepted_then_answered_is_transferred() -> None:
    outcome = await refer(TransferDesk(), (100, "Accepted", False), (100, "Trying", False), (200, "OK", True))
    assert outcome == "transferred 200 OK"


async def test_a_refused_refer_or_a_failed_new_call_is_a_failure() -> None:
    assert await refer(TransferDesk(), (603, "Decline", True)) == "failed 603 Decline"
    assert await refer(TransferDesk(), (100, "Accepted", False), (486, "Busy Here", True)) == "failed 486 Busy Here"


async def test_no_answer_at_all_is_a_failure_and_no_final_notify_is_unconfirmed() -> None:
    assert await refer(TransferDesk(wait_s=0.05)) == "failed 0 no answer"
    assert await refer(TransferDesk(wait_s=0.05), (100, "Accepted", False)) == "unconfirmed 100 Accepted"
    assert await refer(TransferDesk(), (100, "Accepted", False), (180, "Ringing", True)) == "unconfirmed 180 Ringing"


async def test_the_caller_hanging_up_after_accepting_is_transferred() -> None:
    assert await refer(TransferDesk(), (100, "Accepted", False), gone=True) == "transferred 100 Accepted"
    failed = await refer(TransferDesk(), gone=True)
    assert failed == "failed 0 the call ended before the REFER was answered"


async def test_reports_for_calls_with_no_refer_are_ignored() -> None:
    desk = TransferDesk()
    desk.progress(3, 200, "OK", True)
    desk.gone(3)
    assert await refer(desk, (200, "OK", True)) == "transferred 200 OK"


async def test_one_refer_at_a_time_per_call() -> None:
    desk = TransferDesk()
    first = asyncio.create_task(desk.refer(7, lambda: None))
    await asyncio.sleep(0)
    second = await desk.refer(7, lambda: pytest.fail("a second REFER was sent"))
    assert (second.outcome, second.reason) == ("failed", "another transfer of this call is under way")
    desk.progress(7, 200, "OK", True)
    assert (await first).outcome == "transferred"
