"""Delivery providers behind one small interface, and the ordered chain that falls back between them.

A provider sends one EmailMessage or SmsMessage with an idempotency key and returns a
ProviderResult (its name and its message id), or raises DeliveryError, marked permanent when
retrying can never help (an invalid address, an unsubscribed number) and transient otherwise
(5xx, 429, time-outs, refused connections, bad credentials: another provider or a later
attempt may succeed).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import smtplib
import ssl
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from email.utils import parseaddr
from typing import Any, Literal, Protocol

import requests
import requests.adapters
import resend
import resend.exceptions
import resend.http_client
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client as TwilioClient

from worker.invites import Attachment
from worker.metrics import FALLBACKS, PROVIDER_SENDS
from worker.settings import Settings

log = logging.getLogger("worker.providers")

Channel = Literal["email", "sms"]


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    sender: str | None = None  # default: EMAIL_FROM
    reply_to: str | None = None
    # Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058).
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    channel: Channel = "email"


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    sender: str | None = None  # default: TWILIO_FROM_NUMBER

    channel: Channel = "sms"


Message = EmailMessage | SmsMessage


@dataclass(frozen=True)
class ProviderResult:
    provider: str
    provider_message_id: str


class DeliveryError(Exception):
    """A send that did not happen. `permanent`: no retry and no other provider can help."""

    def __init__(self, provider: str, detail: str, permanent: bool = False) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider = provider
        self.detail = detail
        self.permanent = permanent


class AllProvidersFailed(DeliveryError):  # noqa: N818 (reads as what happened)
    """Every provider of the channel failed transiently; the job is retried later."""

    def __init__(self, errors: list[DeliveryError]) -> None:
        detail = "; ".join(str(error) for error in errors) or "no provider configured"
        super().__init__(errors[-1].provider if errors else "none", detail, permanent=False)
        self.errors = errors


class Provider(Protocol):
    name: str
    channel: Channel

    def send(self, message: Any, idempotency_key: str) -> ProviderResult: ...


# 4xx statuses that say something about the request as a whole (credentials, rate, conflict,
# time-out) rather than about this message: another provider or a later attempt may succeed.
TRANSIENT_CLIENT_STATUSES = frozenset({401, 403, 404, 408, 409, 429})


def is_permanent_status(status: int) -> bool:
    """An HTTP status that rejects this very message (bad address, invalid content)."""
    return 400 <= status < 500 and status not in TRANSIENT_CLIENT_STATUSES


class ProviderChain:
    """The providers of one channel in configured order: the first success wins; a transient
    error or time-out moves on to the next at once; a permanent error stops the chain."""

    def __init__(self, channel: Channel, providers: list[Provider]) -> None:
        self.channel = channel
        self.providers = providers

    @property
    def names(self) -> list[str]:
        return [provider.name for provider in self.providers]

    def send(self, message: Message, idempotency_key: str) -> ProviderResult:
        errors: list[DeliveryError] = []
        for position, provider in enumerate(self.providers):
            try:
                result = provider.send(message, idempotency_key)
            except DeliveryError as error:
                if error.permanent:
                    PROVIDER_SENDS.labels(self.channel, provider.name, "rejected").inc()
                    raise
                errors.append(error)
            except Exception as error:  # a provider bug must not stop the fallback
                errors.append(DeliveryError(provider.name, f"unexpected {error!r}"))
            else:
                PROVIDER_SENDS.labels(self.channel, provider.name, "ok").inc()
                if position:
                    FALLBACKS.labels(self.channel, provider.name).inc()
                return result
            PROVIDER_SENDS.labels(self.channel, provider.name, "error").inc()
            log.warning("%s failed for %s, trying the next provider", provider.name, idempotency_key)
        raise AllProvidersFailed(errors)


@dataclass
class Providers:
    email: ProviderChain
    sms: ProviderChain

    def chain(self, channel: Channel) -> ProviderChain:
        return self.email if channel == "email" else self.sms


# --- console ---------------------------------------------------------------------------------


class ConsoleProvider:
    """Records instead of sending: the default when no keys are set, so `make dev` delivers.

    The log line is the record; `sent` keeps only the newest `KEEP` messages (for tests and
    a debugger), so a worker left running under `make dev` does not grow without bound.
    """

    name = "console"
    KEEP = 1000

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.sent: deque[tuple[Message, str, str]] = deque(maxlen=self.KEEP)

    def send(self, message: Message, idempotency_key: str) -> ProviderResult:
        message_id = f"console-{uuid.uuid4()}"
        self.sent.append((message, idempotency_key, message_id))
        if isinstance(message, EmailMessage):
            log.info("console email to %s: %s\n%s", message.to, message.subject, message.text)
        else:
            log.info("console sms to %s: %s", message.to, message.body)
        return ProviderResult(self.name, message_id)


# --- resend ----------------------------------------------------------------------------------


class PooledResendHttpClient(resend.http_client.HTTPClient):
    """The SDK's default client opens a new connection (a TLS handshake) per email; this one
    keeps a pool of them (one per job in flight) in a requests Session shared by the threads."""

    def __init__(self, timeout: float, pool_size: int) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def request(
        self,
        method: str,
        url: str,
        headers: Any,
        json: Any = None,
        files: Any = None,
        data: Any = None,
    ) -> tuple[bytes, int, Any]:
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                json=json if data is None else None,
                data=data,
                files=files,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise RuntimeError(f"Request failed: {error}") from error  # the SDK makes it a ResendError
        return response.content, response.status_code, response.headers


class ResendProvider:
    """Resend through its SDK, with the Idempotency-Key header (Resend keeps keys for 24 hours).

    The SDK is configured through module globals (api_key, api_url, default_http_client):
    one Resend account per process.
    """

    name = "resend"
    channel: Channel = "email"

    def __init__(self, api_key: str, api_url: str, sender: str, timeout: float, pool_size: int = 10) -> None:
        resend.api_key = api_key
        resend.api_url = api_url.rstrip("/")
        resend.default_http_client = PooledResendHttpClient(timeout, pool_size)
        self.sender = sender

    def send(self, message: EmailMessage, idempotency_key: str) -> ProviderResult:
        params: dict[str, Any] = {
            "from": message.sender or self.sender,
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
        }
        if message.html:
            params["html"] = message.html
        if message.reply_to:
            params["reply_to"] = [message.reply_to]
        if message.headers:
            params["headers"] = dict(message.headers)
        if message.attachments:
            params["attachments"] = [
                {
                    "filename": attachment.filename,
                    "content": base64.b64encode(attachment.content).decode("ascii"),
                    "content_type": attachment.content_type,
                }
                for attachment in message.attachments
            ]
        try:
            sent = resend.Emails.send(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        except resend.exceptions.ResendError as error:
            status = int(error.code) if str(error.code).isdigit() else 500
            permanent = is_permanent_status(status)
            raise DeliveryError(
                self.name, f"{status} {error.error_type}: {error.message}", permanent
            ) from error
        return ProviderResult(self.name, str(sent["id"]))


# --- smtp ------------------------------------------------------------------------------------


class SmtpProvider:
    """Any SMTP relay with the standard library (smtplib, email). The idempotency key becomes the
    Message-ID, so a resend after a crash carries the same id and receiving systems can drop it."""

    name = "smtp"
    channel: Channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout: float,
        username: str = "",
        password: str = "",
        security: str = "starttls",
    ) -> None:
        if security not in {"starttls", "ssl", "none"}:
            raise ValueError(f"SMTP_SECURITY must be starttls, ssl or none, not {security!r}")
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.username, self.password, self.security = username, password, security

    def message_id(self, idempotency_key: str) -> str:
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "careops.localhost"
        return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"

    def send(self, message: EmailMessage, idempotency_key: str) -> ProviderResult:
        mime = MimeMessage()
        mime["From"] = message.sender or self.sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Message-ID"] = self.message_id(idempotency_key)
        if message.reply_to:
            mime["Reply-To"] = message.reply_to
        for name, value in message.headers.items():
            mime[name] = value
        mime.set_content(message.text)
        if message.html:
            mime.add_alternative(message.html, subtype="html")
        for attachment in message.attachments:
            maintype, _, subtype = attachment.mime_type.partition("/")
            mime.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
                params=dict(attachment.parameters),
            )
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mime)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            permanent = all(500 <= code < 600 for code in codes)
            raise DeliveryError(self.name, f"recipient refused {error.recipients}", permanent) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(self.name, repr(error)) from error
        return ProviderResult(self.name, mime["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


# --- twilio ----------------------------------------------------------------------------------

TWILIO_DEFAULT_API_URL = "https://api.twilio.com"
# Twilio error codes that condemn the message, not the attempt: invalid or non-mobile 'To',
# unsubscribed (STOP), unreachable, blocked.
TWILIO_PERMANENT_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006})


class BaseUrlTwilioHttpClient(TwilioHttpClient):
    """The SDK's own http client, pointed at another base URL (a stub, a proxy)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if url.startswith(TWILIO_DEFAULT_API_URL):
            url = self.base_url + url.removeprefix(TWILIO_DEFAULT_API_URL)
        return super().request(method, url, *args, **kwargs)


class TwilioProvider:
    """SMS through the Twilio SDK. Twilio takes no idempotency key for messages: the key travels
    only in our log line; the message claim (issue #8) keeps the resend window small."""

    name = "twilio"
    channel: Channel = "sms"

    def __init__(
        self, account_sid: str, auth_token: str, from_number: str, timeout: float, api_url: str
    ) -> None:
        self.from_number = from_number
        # The SDK's client keeps a requests Session (pooled connections) already.
        self.client = TwilioClient(
            account_sid, auth_token, http_client=BaseUrlTwilioHttpClient(api_url, timeout)
        )

    def send(self, message: SmsMessage, idempotency_key: str) -> ProviderResult:
        try:
            sent = self.client.messages.create(
                to=message.to, from_=message.sender or self.from_number, body=message.body
            )
        except TwilioRestException as error:
            permanent = error.code in TWILIO_PERMANENT_CODES or (
                is_permanent_status(error.status) and error.code not in (20429, 20003)
            )
            raise DeliveryError(self.name, f"{error.status} {error.code}: {error.msg}", permanent) from error
        except Exception as error:  # requests' time-outs and connection errors
            raise DeliveryError(self.name, repr(error)) from error
        return ProviderResult(self.name, str(sent.sid))


# --- configuration ---------------------------------------------------------------------------


def _names(configured: str, available: list[str]) -> list[str]:
    names = [name.strip() for name in configured.split(",") if name.strip()]
    return names or available or ["console"]


def build_providers(settings: Settings) -> Providers:
    """The provider chains the settings describe (EMAIL_PROVIDERS, SMS_PROVIDERS, keys)."""
    timeout = settings.provider_timeout_seconds
    email_available = [
        name
        for name, configured in (("resend", settings.resend_api_key), ("smtp", settings.smtp_host))
        if configured
    ]
    sms_available = ["twilio"] if settings.twilio_account_sid else []

    email: list[Provider] = []
    for name in _names(settings.email_providers, email_available):
        if name == "console":
            email.append(ConsoleProvider("email"))
        elif name == "resend":
            if not settings.resend_api_key:
                raise ValueError("EMAIL_PROVIDERS names resend but RESEND_API_KEY is not set")
            email.append(
                ResendProvider(
                    settings.resend_api_key,
                    settings.resend_api_url,
                    settings.email_from,
                    timeout,
                    pool_size=settings.worker_concurrency,
                )
            )
        elif name == "smtp":
            if not settings.smtp_host:
                raise ValueError("EMAIL_PROVIDERS names smtp but SMTP_HOST is not set")
            email.append(
                SmtpProvider(
                    settings.smtp_host,
                    settings.smtp_port,
                    settings.email_from,
                    timeout,
                    settings.smtp_username,
                    settings.smtp_password,
                    settings.smtp_security,
                )
            )
        else:
            raise ValueError(f"unknown email provider {name!r} (resend, smtp, console)")

    sms: list[Provider] = []
    for name in _names(settings.sms_providers, sms_available):
        if name == "console":
            sms.append(ConsoleProvider("sms"))
        elif name == "twilio":
            if not (
                settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number
            ):
                raise ValueError(
                    "SMS_PROVIDERS names twilio but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN or "
                    "TWILIO_FROM_NUMBER is not set"
                )
            sms.append(
                TwilioProvider(
                    settings.twilio_account_sid,
                    settings.twilio_auth_token,
                    settings.twilio_from_number,
                    timeout,
                    settings.twilio_api_url,
                )
            )
        else:
            raise ValueError(f"unknown sms provider {name!r} (twilio, console)")

    return Providers(ProviderChain("email", email), ProviderChain("sms", sms))
