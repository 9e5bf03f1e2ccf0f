"""A practitioner's private calendar feed: the URL their calendar app subscribes to.

GET /calendar/<token>.ics, no other credential: the token (public.create_calendar_feed, shown
once, only its sha256 stored) is the secret, so it is long and unguessable, and revocable
(public.revoke_calendar_feed, or a new one). One database round trip
(private.calendar_feed as service_role); an unknown or revoked token, or a practitioner who
is inactive or no longer a member, answers 404. The answer carries an ETag and a short
max-age, and the calendar says how often to refresh (REFRESH-INTERVAL, X-PUBLISHED-TTL).
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
from fastapi import APIRouter, Path, Request, Response
from psycopg import sql

from edge_api.db import SERVICE_ROLE_CLAIMS, json_text_as
from edge_api.deps import AppSettings, Pool
from edge_api.errors import ApiError, ErrorBody

router = APIRouter(tags=["calendar"])

REFRESH = timedelta(minutes=15)
MAX_AGE_SECONDS = 300


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def feed_calendar(feed: dict[str, Any]) -> bytes:
    """The feed's VCALENDAR: one VEVENT per confirmed booking (UID and SEQUENCE as the
    customer's invite), times in UTC."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//CareOps//Practitioner feed//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{feed['workspace_name']}: {feed['practitioner_name']}")
    calendar.add("x-wr-timezone", feed["timezone"])
    calendar.add("refresh-interval", REFRESH, parameters={"value": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for booking in feed["bookings"]:
        event = icalendar.Event()
        event.add("uid", f"booking-{booking['id']}@careops")
        event.add("sequence", booking["revision"])
        event.add("dtstamp", _instant(booking["updated_at"]).replace(microsecond=0))
        event.add("dtstart", _instant(booking["starts_at"]))
        event.add("dtend", _instant(booking["ends_at"]))
        event.add("summary", f"{booking['booking_type_name']}: {booking['contact_name']}")
        event.add("location", booking["location"])
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The practitioner's bookings"},
        304: {"description": "Unchanged since the ETag sent in If-None-Match"},
        400: {"model": ErrorBody, "description": "Not the shape of a feed token (invalid_parameter)"},
        404: {"model": ErrorBody, "description": "Unknown or revoked feed, or its practitioner removed"},
    },
)
async def calendar_feed(
    request: Request,
    pool: Pool,
    settings: AppSettings,
    token: str = Path(min_length=1, max_length=200, pattern="^[A-Za-z0-9_-]+$"),
) -> Response:
    """A practitioner's confirmed bookings (from 30 days ago on) as text/calendar."""
    text = await json_text_as(
        pool,
        "service_role",
        SERVICE_ROLE_CLAIMS,
        settings.db_statement_timeout_ms,
        sql.SQL("select private.calendar_feed({})").format(sql.Literal(token)),
    )
    if text is None:
        raise ApiError(404, "not_found", "No calendar feed has this address.")
    body = feed_calendar(json.loads(text))
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={MAX_AGE_SECONDS}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="text/calendar; charset=utf-8", headers=headers)
