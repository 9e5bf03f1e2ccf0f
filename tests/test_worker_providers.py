"""Delivery providers: the real resend and twilio SDKs and smtplib against local stubs, the
fallback chain, and provider configuration. No database needed."""

from __future__ import annotations

import time

import pytest

from tests.stubs import ResendStub, SmtpStub, TwilioStub
from worker.providers import (
    AllProvidersFailed,
    ConsoleProvider,
    DeliveryError,
    EmailMessage,
    ProviderChain,
    ResendProvider,
    SmsMessage,
    SmtpProvider,
    TwilioProvider,
    build_providers,
)
from worker.settings import Settings

TIMEOUT = 0.5
EMAIL = EmailMessage(to="guest@example.test", subject="Hello", text="plain body", html="<p>html body</p>")
SMS = SmsMessage(to="+15005550006", body="Your appointment is tomorrow")
SENDER = "CareOps <no-reply@careops.test>"


def resend_for(stub: ResendStub) -> ResendProvider:
    return ResendProvider("re_test_key", stub.url, SENDER, TIMEOUT)


def smtp_for(stub: SmtpStub) -> SmtpProvider:
    return SmtpProvider("127.0.0.1", stub.port, SENDER, TIMEOUT, security="none")


def twilio_for(stub: TwilioStub) -> TwilioProvider:
    return TwilioProvider("AC" + "0" * 32, "auth-token", "+15005550001", TIMEOUT, stub.url)


def settings(**overrides: object) -> Settings:
    return Settings(database_url="postgresql://u:p@127.0.0.1:1/db", **overrides)  # type: ignore[arg-type]


# --- resend ------------------------------------------------------------------------------


def test_resend_sends_through_the_sdk_with_the_idempotency_key(resend_stub: ResendStub) -> None:
    result = resend_for(resend_stub).send(EMAIL, "invitation:abc")

    (request,) = resend_stub.requests
    assert request.headers["Idempotency-Key"] == "invitation:abc"
    assert request.headers["Authorization"] == "Bearer re_test_key"
    assert request.body == {
        "from": SENDER,
        "to": ["guest@example.test"],
        "subject": "Hello",
        "text": "plain body",
        "html": "<p>html body</p>",
    }
    assert result.provider == "resend"
    assert result.provider_message_id == resend_stub.ids_by_key["invitation:abc"]


def test_resend_same_key_twice_is_delivered_once(resend_stub: ResendStub) -> None:
    provider = resend_for(resend_stub)
    first = provider.send(EMAIL, "k-1")
    second = provider.send(EMAIL, "k-1")
    assert first == second
    assert resend_stub.deliveries == {"k-1": 1}


def test_resend_reuses_its_connection(resend_stub: ResendStub) -> None:
    provider = resend_for(resend_stub)
    for n in range(3):
        provider.send(EMAIL, f"k-{n}")
    assert len({request.peer for request in resend_stub.requests}) == 1


@pytest.mark.parametrize(("mode", "permanent"), [("fail", False), ("reject", True), ("hang", False)])
def test_resend_errors_are_classified(resend_stub: ResendStub, mode: str, permanent: bool) -> None:
    resend_stub.mode = mode  # type: ignore[assignment]
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        resend_for(resend_stub).send(EMAIL, "k")
    assert caught.value.permanent is permanent
    assert caught.value.provider == "resend"
    assert time.monotonic() - started < resend_stub.hang_seconds  # a hang ends at our time-out


# --- smtp --------------------------------------------------------------------------------


def test_smtp_delivers_with_a_message_id_from_the_key(smtp_stub: SmtpStub) -> None:
    provider = smtp_for(smtp_stub)
    result = provider.send(EMAIL, "invitation:abc")

    (received,) = smtp_stub.received
    assert received["To"] == "guest@example.test"
    assert received["From"] == SENDER
    assert received["Subject"] == "Hello"
    assert received["Message-ID"] == result.provider_message_id == provider.message_id("invitation:abc")
    assert provider.message_id("invitation:abc") != provider.message_id("invitation:abd")
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in received.walk()
        if not part.is_multipart()
    }
    assert "plain body" in parts["text/plain"]
    assert "<p>html body</p>" in parts["text/html"]
    assert result.provider == "smtp"


def test_smtp_refused_recipient_is_permanent_and_busy_server_transient(smtp_stub: SmtpStub) -> None:
    smtp_stub.rejected_addresses.add("guest@example.test")
    with pytest.raises(DeliveryError) as refused:
        smtp_for(smtp_stub).send(EMAIL, "k")
    assert refused.value.permanent

    smtp_stub.rejected_addresses.clear()
    smtp_stub.mode = "fail"
    with pytest.raises(DeliveryError) as busy:
        smtp_for(smtp_stub).send(EMAIL, "k")
    assert not busy.value.permanent
    assert smtp_stub.received == []


def test_smtp_server_down_is_transient(smtp_stub: SmtpStub) -> None:
    provider = smtp_for(smtp_stub)
    smtp_stub.stop()
    with pytest.raises(DeliveryError) as caught:
        provider.send(EMAIL, "k")
    assert not caught.value.permanent
    smtp_stub.start = lambda: smtp_stub  # type: ignore[method-assign]
    smtp_stub.stop = lambda: None  # type: ignore[method-assign]  # already stopped for teardown


# --- twilio ------------------------------------------------------------------------------


def test_twilio_sends_through_the_sdk_to_the_configured_base_url(twilio_stub: TwilioStub) -> None:
    result = twilio_for(twilio_stub).send(SMS, "reminder:1")

    (request,) = twilio_stub.requests
    assert request.path == f"/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    assert request.headers["Authorization"].startswith("Basic ")
    assert request.body == {"To": "+15005550006", "From": "+15005550001", "Body": SMS.body}
    assert result.provider == "twilio"
    assert result.provider_message_id.startswith("SM")


@pytest.mark.parametrize(("mode", "permanent"), [("fail", False), ("reject", True), ("hang", False)])
def test_twilio_errors_are_classified(twilio_stub: TwilioStub, mode: str, permanent: bool) -> None:
    twilio_stub.mode = mode  # type: ignore[assignment]
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        twilio_for(twilio_stub).send(SMS, "k")
    assert caught.value.permanent is permanent
    assert time.monotonic() - started < twilio_stub.hang_seconds


# --- the chain ---------------------------------------------------------------------------


def test_primary_500_falls_back_to_smtp_at_once(resend_stub: ResendStub, smtp_stub: SmtpStub) -> None:
    resend_stub.mode = "fail"
    chain = ProviderChain("email", [resend_for(resend_stub), smtp_for(smtp_stub)])
    result = chain.send(EMAIL, "k")
    assert result.provider == "smtp"
    assert len(resend_stub.requests) == 1
    assert len(smtp_stub.received) == 1


def test_primary_time_out_falls_back_within_the_time_out(
    resend_stub: ResendStub, smtp_stub: SmtpStub
) -> None:
    resend_stub.mode = "hang"
    chain = ProviderChain("email", [resend_for(resend_stub), smtp_for(smtp_stub)])
    started = time.monotonic()
    result = chain.send(EMAIL, "k")
    assert result.provider == "smtp"
    assert time.monotonic() - started < TIMEOUT + 1.5


def test_permanent_error_stops_the_chain(resend_stub: ResendStub, smtp_stub: SmtpStub) -> None:
    resend_stub.mode = "reject"
    chain = ProviderChain("email", [resend_for(resend_stub), smtp_for(smtp_stub)])
    with pytest.raises(DeliveryError) as caught:
        chain.send(EMAIL, "k")
    assert caught.value.permanent
    assert smtp_stub.received == []


def test_every_provider_down_fails_transiently_with_each_error(
    resend_stub: ResendStub, smtp_stub: SmtpStub
) -> None:
    resend_stub.mode = "fail"
    smtp_stub.mode = "fail"
    chain = ProviderChain("email", [resend_for(resend_stub), smtp_for(smtp_stub)])
    with pytest.raises(AllProvidersFailed) as caught:
        chain.send(EMAIL, "k")
    assert not caught.value.permanent
    assert [error.provider for error in caught.value.errors] == ["resend", "smtp"]


def test_a_provider_bug_does_not_stop_the_fallback() -> None:
    class Broken:
        name = "broken"
        channel = "email"

        def send(self, message: object, idempotency_key: str) -> object:
            raise KeyError("bug")

    console = ConsoleProvider("email")
    result = ProviderChain("email", [Broken(), console]).send(EMAIL, "k")  # type: ignore[list-item]
    assert result.provider == "console"
    assert console.sent[0][:2] == (EMAIL, "k")


# --- configuration -----------------------------------------------------------------------


def test_console_is_the_default_without_keys() -> None:
    providers = build_providers(settings())
    assert providers.email.names == ["console"]
    assert providers.sms.names == ["console"]


def test_keys_choose_providers_and_the_order_is_configurable() -> None:
    keys = {
        "resend_api_key": "re_x",
        "smtp_host": "127.0.0.1",
        "twilio_account_sid": "AC1",
        "twilio_auth_token": "t",
        "twilio_from_number": "+15005550001",
    }
    assert build_providers(settings(**keys)).email.names == ["resend", "smtp"]
    assert build_providers(settings(**keys)).sms.names == ["twilio"]
    reordered = build_providers(
        settings(**keys, email_providers="smtp, resend,console", sms_providers="console")
    )
    assert reordered.email.names == ["smtp", "resend", "console"]
    assert reordered.sms.names == ["console"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email_providers": "sendgrid"}, "unknown email provider"),
        ({"email_providers": "resend"}, "RESEND_API_KEY"),
        ({"email_providers": "smtp"}, "SMTP_HOST"),
        ({"sms_providers": "twilio"}, "TWILIO_ACCOUNT_SID"),
        ({"sms_providers": "pigeon"}, "unknown sms provider"),
    ],
)
def test_misconfiguration_fails_at_start(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_providers(settings(**overrides))


@pytest.mark.parametrize(
    "overrides",
    [{"worker_concurrency": 0}, {"worker_retry_base_seconds": 60, "worker_retry_max_seconds": 30}],
)
def test_worker_settings_refuse_nonsense(overrides: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"worker_concurrency|WORKER_RETRY_MAX_SECONDS"):
        settings(**overrides)


def test_the_console_keeps_only_its_newest_messages() -> None:
    console = ConsoleProvider("email")
    for n in range(ConsoleProvider.KEEP + 5):
        console.send(EMAIL, f"k{n}")
    assert len(console.sent) == ConsoleProvider.KEEP
    assert [entry[1] for entry in (console.sent[0], console.sent[-1])] == [
        "k5",
        f"k{ConsoleProvider.KEEP + 4}",
    ]
