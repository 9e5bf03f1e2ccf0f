"""Inbound webhooks: Twilio SMS and Resend events (delivery and inbound email).

Each request is verified before anything is read from it: Twilio's X-Twilio-Signature with
the twilio SDK's RequestValidator (HMAC-SHA1 of the URL Twilio called and the POST
parameters), Resend's Svix headers with the svix library (HMAC-SHA256 of id, timestamp and
body, the timestamp within 5 minutes). A request that does not verify answers 401
invalid_signature and writes nothing. A verified event goes to a definer function in
`private` as service_role, which records the event id: the same event again (a provider
retry or a replay) is acknowledged as a duplicate and writes nothing.
"""

import json
import logging
from email.utils import getaddresses, parseaddr
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from svix.webhooks import Webhook, WebhookVerificationError
from twilio.request_validator import RequestValidator

from edge_api.db import SERVICE_ROLE_CLAIMS, transaction_as
from edge_api.deps import AppSettings, Pool
from edge_api.errors import ApiError, ErrorBody
from edge_api.settings import Settings

log = logging.getLogger("edge_api.webhooks")

# One router per provider: create_app mounts each only when its secret is set (an endpoint that
# cannot verify what it receives is not served: 404).
twilio_router = APIRouter(prefix="/webhooks", tags=["webhooks"])
resend_router = APIRouter(prefix="/webhooks", tags=["webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_BODY_BYTES = 1_000_000

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "invalid_parameter: a required field is missing"},
    401: {"model": ErrorBody, "description": "invalid_signature: the request is not from the provider"},
    503: {"model": ErrorBody, "description": "unavailable: the database cannot be reached"},
}


class WebhookAck(BaseModel):
    """What edge_api did with a verified event."""

    # received, status_updated, ignored, unknown_message, unroutable, or duplicate (seen before:
    # nothing written). Every one is a 200, so the provider does not retry.
    outcome: str


def _invalid_signature() -> ApiError:
    return ApiError(401, "invalid_signature", "The webhook signature does not verify.")


def public_url(request: Request, settings: Settings) -> str:
    """The URL the provider called: behind a proxy, WEBHOOK_PUBLIC_BASE_URL + the path and query."""
    if settings.webhook_public_base_url is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{str(settings.webhook_public_base_url).rstrip('/')}{request.url.path}{query}"


async def call_as_service(pool: Any, settings: Settings, query: str, params: list[Any]) -> dict[str, Any]:
    """One definer function call as service_role; its jsonb answer."""
    async with transaction_as(
        pool, "service_role", SERVICE_ROLE_CLAIMS, settings.db_statement_timeout_ms
    ) as conn:
        row = await (await conn.execute(query, params)).fetchone()
    assert row is not None
    return row[0]


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(400, "invalid_parameter", "The webhook body is too large.")
    return body


@twilio_router.post("/twilio/sms", responses=_ERRORS, response_class=Response)
async def twilio_inbound_sms(request: Request, settings: AppSettings, pool: Pool) -> Response:
    """An SMS a customer sent to a workspace's number (Twilio's messaging webhook, POST form).
    STOP/START/HELP (or Twilio's OptOutType) opt the number out, back in, or get the HELP reply."""
    assert settings.twilio_auth_token is not None  # mounted only when set
    # Parsed here (application/x-www-form-urlencoded): no multipart dependency for a form of text fields.
    try:
        params = dict(
            parse_qsl((await _body(request)).decode(), keep_blank_values=True, strict_parsing=False)
        )
    except UnicodeDecodeError as exc:
        raise _invalid_signature() from exc
    signature = request.headers.get("x-twilio-signature", "")
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not signature or not validator.validate(public_url(request, settings), params, signature):
        raise _invalid_signature()
    sid, sender, to = params.get("MessageSid") or params.get("SmsSid"), params.get("From"), params.get("To")
    if not (sid and sender and to):
        raise ApiError(400, "invalid_parameter", "MessageSid, From and To are required.")
    outcome = await call_as_service(
        pool,
        settings,
        "select private.receive_inbound_message('twilio', %s, 'sms', %s, array[%s], null, %s, null, %s)",
        # OptOutType: STOP, START or HELP when the number's Advanced Opt-Out recognised a keyword.
        [sid, sender, to, params.get("Body", ""), params.get("OptOutType") or None],
    )
    log.info("twilio sms %s: %s", sid, outcome["outcome"])
    return Response(EMPTY_TWIML, media_type="text/xml")


@resend_router.post("/resend", responses=_ERRORS, response_model=WebhookAck)
async def resend_event(request: Request, settings: AppSettings, pool: Pool) -> WebhookAck:
    """A Resend event, signed by Svix: email.delivered / email.bounced / email.complained update the
    message Resend sent; email.received is an email a customer wrote; other types are recorded."""
    assert settings.resend_webhook_secret is not None  # mounted only when set
    body = await _body(request)
    headers = {key: request.headers.get(key, "") for key in ("svix-id", "svix-timestamp", "svix-signature")}
    try:
        Webhook(settings.resend_webhook_secret.get_secret_value()).verify(body, headers)
    except (WebhookVerificationError, ValueError) as exc:
        log.warning("resend webhook refused: %s", exc)
        raise _invalid_signature() from exc
    try:
        event = json.loads(body)
        event_type = str(event["type"])
        data = event.get("data") or {}
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(400, "invalid_parameter", "The event is not Resend's JSON.") from exc
    event_id = headers["svix-id"]
    if event_type == "email.received":
        sender_name, sender = parseaddr(str(data.get("from", "")))
        recipients = [address for _, address in getaddresses([str(to) for to in data.get("to") or []])]
        outcome = await call_as_service(
            pool,
            settings,
            "select private.receive_inbound_message('resend', %s, 'email', %s, %s, %s, %s, %s)",
            [event_id, sender, recipients, data.get("subject"), data.get("text") or "", sender_name or None],
        )
    else:
        outcome = await call_as_service(
            pool,
            settings,
            "select private.record_delivery_event(%s, %s, %s)",
            [event_id, event_type, data.get("email_id")],
        )
    log.info("resend %s %s: %s", event_type, event_id, outcome["outcome"])
    return WebhookAck(outcome=outcome["outcome"])
