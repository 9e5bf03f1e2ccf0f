"""Calendar invites for booking emails (RFC 5545, built with the icalendar library).

The claim (private.claim_message_deliveries) hands a confirmation, reschedule or cancellation
email its booking's `calendar_event`: one UID per booking, SEQUENCE = the booking's revision
(+1 on every move and on cancellation), so each invite replaces the previous one in the
customer's calendar. Times are written in UTC (no VTIMEZONE needed): a DST change cannot shift
them. The ORGANIZER is the address the email comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import icalendar

PRODID = "-//CareOps//Bookings//EN"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str  # e.g. text/calendar
    parameters: tuple[tuple[str, str], ...] = ()  # e.g. (("method", "REQUEST"),)

    @property
    def content_type(self) -> str:
        return "; ".join([self.mime_type, *(f"{key}={value}" for key, value in self.parameters)])


def _instant(value: Any) -> datetime:
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return instant.astimezone(UTC)


def invite(event: dict[str, Any], organizer: tuple[str, str], attendee: str) -> Attachment:
    """The .ics of one booking email: METHOD REQUEST (booked, moved) or CANCEL."""
    method = str(event["method"])
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    entry = icalendar.Event()
    entry.add("uid", f"booking-{event['uid']}@careops")
    entry.add("sequence", int(event["sequence"]))
    entry.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    entry.add("dtstart", _instant(event["starts_at"]))
    entry.add("dtend", _instant(event["ends_at"]))
    entry.add("summary", event["summary"])
    entry.add("location", event["location"])
    entry.add(
        "description",
        f"With {event['practitioner_name']}.\nTo cancel or reschedule: {event['manage_url']}",
    )
    entry.add("url", event["manage_url"])
    entry.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    name, address = organizer
    entry.add("organizer", icalendar.vCalAddress(f"mailto:{address}"), parameters={"cn": name or address})
    entry.add(
        "attendee",
        icalendar.vCalAddress(f"mailto:{attendee}"),
        parameters={"role": "REQ-PARTICIPANT", "partstat": "ACCEPTED", "rsvp": "FALSE"},
    )
    calendar.add_component(entry)
    return Attachment(
        filename="cancel.ics" if method == "CANCEL" else "invite.ics",
        content=calendar.to_ical(),
        mime_type="text/calendar",
        parameters=(("charset", "utf-8"), ("method", method)),
    )


def add_to_calendar_links(event: dict[str, Any]) -> str:
    """The email's add-to-calendar lines (Google, Outlook) for a booked or moved appointment."""
    starts, ends = _instant(event["starts_at"]), _instant(event["ends_at"])
    details = f"With {event['practitioner_name']}."
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": event["summary"],
            "dates": f"{starts:%Y%m%dT%H%M%SZ}/{ends:%Y%m%dT%H%M%SZ}",
            "details": details,
            "location": event["location"],
        }
    )
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": event["summary"],
            "startdt": f"{starts:%Y-%m-%dT%H:%M:%SZ}",
            "enddt": f"{ends:%Y-%m-%dT%H:%M:%SZ}",
            "body": details,
            "location": event["location"],
        }
    )
    return f"Add to your calendar:\nGoogle: {google}\nOutlook: {outlook}"
