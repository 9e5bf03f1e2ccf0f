"""A day in the life of a clinic, against the running stack, through the paths its users take.

    make demo                                   # against `make dev` (database, edge_api, worker)
    .venv/bin/python scripts/demo.py --database-url URL --api-url http://127.0.0.1:8000

Each run signs up a new owner who onboards a new workspace up to activation; then customers
book, cancel and reschedule by their manage links, fill in a form by its link, write in by SMS
and email (signed webhooks to edge_api), staff answer (which pauses automation), a visit is
completed and takes stock below its threshold, and the sweeps pg_cron runs are run. After each
part it prints what the dashboard (GET /dashboard/stats) shows. Nothing fakes the clock: one
booking is placed at the next open minute and completed once it has started.

The database calls are the ones supabase-js makes, run as PostgREST runs them: one transaction
per request, `set local role` anon or authenticated and the user's JWT claims
(`request.jwt.claims`); `frontend/src/*.ts` has the same calls in TypeScript. Sign-up is
GoTrue's insert into auth.users (under `supabase start`: `supabase.auth.signUp`). The sweeps run
as pg_cron runs them. edge_api is called over HTTP with a local dev token.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import jwt
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from edge_api.dev_token import claims_for
from edge_api.settings import LOCAL_JWT_SECRET

PASSWORD = "careops-demo"  # noqa: S105 (the demo accounts' known password, as in the seed)
# The secrets `make dev` gives edge_api's webhooks when none are set (local development only).
LOCAL_TWILIO_AUTH_TOKEN = "careops-local-twilio-auth-token"  # noqa: S105
LOCAL_RESEND_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"careops-local-resend-webhook-key!").decode()
TIMEZONE = "Europe/London"
CUSTOMERS = [
    ("Alex Rivera", "+447700900101"),
    ("Bea Okafor", "+447700900102"),
    ("Chen Wei", None),
    ("Dara Byrne", "+447700900104"),
    ("Eli Novak", None),
    ("Femi Adeyemi", "+447700900106"),
    ("Gita Rao", None),
    ("Hugo Lambert", "+447700900108"),
]


def say(text: str = "") -> None:
    print(text, flush=True)


def step(title: str) -> None:
    say()
    say(f"== {title}")


@dataclass(frozen=True)
class Actor:
    """Who a request runs as: PostgREST's role and the JWT claims it sets."""

    role: str
    claims: dict[str, Any]
    label: str


ANON = Actor("anon", {"role": "anon"}, "anon")
# The platform's side (docs/backend.md, "Sender identities"): what verifies a clinic's domain and number.
PLATFORM = Actor("service_role", {"role": "service_role"}, "service_role")


class Api:
    """The database as supabase-js reaches it through PostgREST, and edge_api over HTTP."""

    def __init__(self, database_url: str, api_url: str, twilio_token: str, resend_secret: str) -> None:
        self.conn = psycopg.connect(database_url, row_factory=dict_row)
        self.http = httpx.Client(base_url=api_url, timeout=30)
        self.api_url = api_url.rstrip("/")
        self.twilio_token = twilio_token
        self.resend_secret = resend_secret

    def close(self) -> None:
        self.conn.close()
        self.http.close()

    @contextmanager
    def request(self, actor: Actor) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """One PostgREST request: a transaction with the role and claims set locally."""
        with self.conn.transaction():
            self.conn.execute(sql.SQL("set local role {}").format(sql.Identifier(actor.role)))
            self.conn.execute(
                "select set_config('request.jwt.claims', %s, true)", [json.dumps(actor.claims, default=str)]
            )
            yield self.conn

    def rpc(self, actor: Actor, function: str, **params: Any) -> list[dict[str, Any]]:
        """supabase.rpc(function, params): named arguments."""
        query = sql.SQL("select * from public.{}({})").format(
            sql.Identifier(function),
            sql.SQL(", ").join(
                sql.SQL("{} => {}").format(sql.Identifier(n), sql.Placeholder()) for n in params
            ),
        )
        with self.request(actor) as conn:
            return conn.execute(query, list(params.values())).fetchall()

    def rpc_value(self, actor: Actor, function: str, **params: Any) -> Any:
        """An RPC returning one scalar or JSON value."""
        return next(iter(self.rpc(actor, function, **params)[0].values()))

    def insert(self, actor: Actor, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """supabase.from(table).insert(row).select().single(): the row as PostgREST answers it (JSON)."""
        query = sql.SQL(
            "insert into public.{} as inserted ({}) values ({}) returning to_jsonb(inserted) as row"
        ).format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder() * len(row)),
        )
        with self.request(actor) as conn:
            values = [json.dumps(v) if isinstance(v, list | dict) else v for v in row.values()]
            inserted = conn.execute(query, values).fetchone()
        assert inserted is not None
        return inserted["row"]

    def update(self, actor: Actor, table: str, values: dict[str, Any], where: dict[str, Any]) -> int:
        """supabase.from(table).update(values).eq(...)."""
        query = sql.SQL("update public.{} set {} where {}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in values
            ),
            sql.SQL(" and ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in where
            ),
        )
        with self.request(actor) as conn:
            return conn.execute(query, [*values.values(), *where.values()]).rowcount

    def select(self, actor: Actor, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """A supabase.from(...).select(...) under RLS (written as the SQL PostgREST makes of it)."""
        with self.request(actor) as conn:
            return conn.execute(query, params or []).fetchall()  # type: ignore[arg-type]

    def select_written(
        self, actor: Actor, query: str, params: list[Any] | None = None, timeout: float = 10
    ) -> list[dict[str, Any]]:
        """select, polled until it has rows: messages a change sets off are written by the worker
        moments after the commit (the outbox), as the frontend sees them arrive through Realtime."""
        deadline = time.monotonic() + timeout
        while not (rows := self.select(actor, query, params)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return rows

    def as_platform(self, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """What the platform does itself (GoTrue's sign-up, pg_cron's sweeps), as `postgres`."""
        with self.conn.transaction():
            return self.conn.execute(query, params or []).fetchall()  # type: ignore[arg-type]

    # --- edge_api ----------------------------------------------------------------------------

    def dashboard(self, user: Actor, workspace_id: uuid.UUID) -> dict[str, Any]:
        token = jwt.encode(user.claims, LOCAL_JWT_SECRET, algorithm="HS256")
        answer = self.http.get(
            "/dashboard/stats",
            params={"workspace_id": str(workspace_id)},
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        return answer.json()

    def twilio_sms(self, sender: str, to: str, body: str) -> dict[str, Any]:
        """An inbound SMS as Twilio posts it: form parameters signed with X-Twilio-Signature."""
        url = f"{self.api_url}/webhooks/twilio/sms"
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
        }
        payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
        signature = base64.b64encode(
            hmac.new(self.twilio_token.encode(), payload.encode(), hashlib.sha1).digest()
        ).decode()
        answer = self.http.post(
            "/webhooks/twilio/sms",
            content=urlencode(params),
            headers={"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature},
        )
        answer.raise_for_status()
        return {"status": answer.status_code}

    def resend_email(self, sender: str, to: str, subject: str, text: str) -> dict[str, Any]:
        """An inbound email as Resend posts it: an `email.received` event signed the Svix way."""
        body = json.dumps(
            {
                "type": "email.received",
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "data": {
                    "email_id": str(uuid.uuid4()),
                    "from": sender,
                    "to": [to],
                    "subject": subject,
                    "text": text,
                },
            }
        ).encode()
        event_id = "msg_" + uuid.uuid4().hex
        stamp = str(int(time.time()))
        key = base64.b64decode(self.resend_secret.removeprefix("whsec_"))
        signed = hmac.new(key, f"{event_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        answer = self.http.post(
            "/webhooks/resend",
            content=body,
            headers={
                "svix-id": event_id,
                "svix-timestamp": stamp,
                "svix-signature": "v1," + base64.b64encode(signed).decode(),
                "content-type": "application/json",
            },
        )
        answer.raise_for_status()
        return answer.json()


def sign_up(api: Api, email: str, full_name: str) -> Actor:
    """GoTrue's part of supabase.auth.signUp: the auth.users row (the profile comes by trigger)."""
    row = api.as_platform(
        "insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,"
        " raw_app_meta_data, raw_user_meta_data, created_at, updated_at)"
        " values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(),"
        " 'authenticated', 'authenticated',"
        " %s, extensions.crypt(%s, extensions.gen_salt('bf')), now(),"
        ' \'{"provider": "email", "providers": ["email"]}\', jsonb_build_object(\'full_name\', %s::text),'
        " now(), now())"
        " returning id, email, raw_app_meta_data, raw_user_meta_data",
        [email, PASSWORD, full_name],
    )[0]
    user = {
        "id": row["id"],
        "email": row["email"],
        "app_metadata": row["raw_app_meta_data"],
        "user_metadata": row["raw_user_meta_data"],
    }
    return Actor("authenticated", claims_for(user, 12 * 3600), full_name)


def show_dashboard(api: Api, owner: Actor, workspace_id: uuid.UUID, note: str) -> dict[str, Any]:
    stats = api.dashboard(owner, workspace_id)
    b, leads, forms, stock, alerts = (
        stats["bookings"],
        stats["leads"],
        stats["forms"],
        stats["inventory"],
        stats["alerts"],
    )
    last = b["last_30_days"]
    low = (
        ", ".join(f"{i['name']} {i['quantity']:g}/{i['low_stock_threshold']:g}" for i in stock["low_stock"])
        or "none"
    )
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(alerts["open_by_kind"].items())) or "none"
    say(f"   dashboard ({note}): workspace {stats['workspace']['status']}")
    say(
        f"     bookings  today {b['today']}, next 7 days {b['next_7_days']},"
        f" last 30 days: {last['completed']} completed, {last['no_show']} no-show,"
        f" {last['cancelled']} cancelled"
    )
    say(
        f"     leads     {leads['new_contacts_7_days']} new contacts this week; unread:"
        f" {leads['unread_conversations']} conversations, {leads['unread_messages']} messages"
    )
    say(
        f"     forms     {forms['pending']} pending, {forms['overdue']} overdue,"
        f" {forms['completed_30_days']} completed"
    )
    say(f"     stock     {stock['items']} items, low: {low}")
    say(f"     alerts    {alerts['open']} open ({kinds})")
    return stats


def wait_for_delivery(api: Api, workspace_id: uuid.UUID, timeout: float) -> dict[str, int]:
    """The worker drains the queue: wait until it has written what the changes asked for (no
    message_events job left: the outbox) and none of the workspace's messages waits for it."""
    deadline = time.monotonic() + timeout
    while True:
        rows = api.as_platform(
            "select status, count(*) as n from public.messages"
            " where workspace_id = %s and direction = 'outbound'"
            " group by status",
            [workspace_id],
        )
        counts = {row["status"]: row["n"] for row in rows}
        events = api.as_platform("select count(*) as n from pgmq.q_events")[0]["n"]
        if not events and not counts.get("queued") and not counts.get("sending"):
            return counts
        if time.monotonic() > deadline:
            raise SystemExit(
                f"demo: {counts.get('queued', 0) + counts.get('sending', 0)} messages"
                " still wait for the worker"
                " after {timeout:.0f} s: is it running (make dev)?"
            )
        time.sleep(0.5)


def open_starts(api: Api, slug: str, booking_type_id: str, first: dt.date, days: int) -> list[dt.datetime]:
    """get_available_slots for the local dates first..first + days: the open starts."""
    slots = api.rpc(
        ANON,
        "get_available_slots",
        p_workspace_slug=slug,
        p_booking_type_id=booking_type_id,
        p_from=first,
        p_to=first + dt.timedelta(days=days),
    )
    return [slot["starts_at"] for slot in slots]


def daytime_slots(
    starts: list[dt.datetime], zone: ZoneInfo, today: dt.date
) -> dict[dt.date, list[dt.datetime]]:
    """Open starts between 09:00 and 17:00 local, by local date, from tomorrow on."""
    by_day: dict[dt.date, list[dt.datetime]] = {}
    for start in starts:
        local = start.astimezone(zone)
        if local.date() > today and 9 <= local.hour < 17 and local.minute % 30 == 0:
            by_day.setdefault(local.date(), []).append(start)
    return by_day


def run(api: Api, delivery_timeout: float) -> dict[str, Any]:
    zone = ZoneInfo(TIMEZONE)
    tag = dt.datetime.now(dt.UTC).strftime("%m%d%H%M%S")
    slug = f"harbour-physio-{tag}"
    domain = f"harbour-{tag}.demo.careops.test"
    sms_number = "+4420" + tag[-8:].rjust(8, "0")
    front_desk = f"frontdesk@{domain}"

    step("1. Owner onboarding: sign-up to activation")
    owner = sign_up(api, f"hana@{domain}", "Hana Harbour")
    say(f"   Hana signs up ({owner.claims['email']}, password {PASSWORD}); her profile is made by trigger")
    workspace = api.rpc(owner, "create_workspace", p_name="Harbour Physio", p_slug=slug, p_timezone=TIMEZONE)[
        0
    ]
    workspace_id = workspace["id"]
    say(
        f"   create_workspace -> {workspace['name']} (/{slug}), status {workspace['status']};"
        " Hana is its owner"
    )
    report = api.rpc_value(owner, "workspace_activation_status", p_workspace_id=workspace_id)
    say(f"   workspace_activation_status -> missing: {', '.join(report['missing'])}")
    api.update(
        owner,
        "communication_settings",
        {
            "sender_name": "Harbour Physio",
            "sender_email": front_desk,
            "sms_enabled": True,
            "sms_from_number": sms_number,
        },
        {"workspace_id": workspace_id},
    )
    say(f"   communication: email from {front_desk}, SMS from {sms_number}")
    for kind, value in (("email_domain", domain), ("email_address", front_desk), ("sms_number", sms_number)):
        api.insert(owner, "sender_identities", {"workspace_id": workspace_id, "kind": kind, "value": value})
        api.update(
            PLATFORM,
            "sender_identities",
            {"status": "verified"},
            {"workspace_id": workspace_id, "kind": kind},
        )
    say(
        f"   sender identities requested by Hana, verified by the platform:"
        f" {domain}, {front_desk}, {sms_number}"
    )
    practitioner_id = api.select(
        owner,
        "select id from public.practitioners where workspace_id = %s and user_id = %s",
        [workspace_id, owner.claims["sub"]],
    )[0]["id"]
    types = {}
    for name, minutes, interval, notice, description in [
        ("Assessment", 45, 30, 60, "A first visit: history, tests and a plan."),
        ("Follow-up", 30, 30, 60, "Progress against the plan."),
        ("Dressing change", 10, 1, 0, "A quick visit, bookable to the minute."),
    ]:
        booking_type = api.insert(
            owner,
            "booking_types",
            {
                "workspace_id": workspace_id,
                "name": name,
                "description": description,
                "duration_minutes": minutes,
                "slot_interval_minutes": interval,
                "min_notice_minutes": notice,
                "max_days_ahead": 30,
                "buffer_after_minutes": 0 if interval == 1 else 5,
                "location": "2 Quay Street, Bristol",
            },
        )
        types[name] = booking_type["id"]
        api.insert(
            owner,
            "booking_type_practitioners",
            {
                "workspace_id": workspace_id,
                "booking_type_id": booking_type["id"],
                "practitioner_id": practitioner_id,
            },
        )
    # Hana takes bookings around the clock, so the demo finds a slot starting now whenever it runs.
    for weekday in range(1, 8):
        api.insert(
            owner,
            "availability_rules",
            {
                "workspace_id": workspace_id,
                "practitioner_id": practitioner_id,
                "weekday": weekday,
                "start_time": "00:00",
                "end_time": "24:00",
            },
        )
    say("   booking types Assessment (45 min), Follow-up (30 min), Dressing change (10 min, any minute);")
    say("   Hana performs them, every day, all day")
    form = api.insert(
        owner,
        "intake_forms",
        {
            "workspace_id": workspace_id,
            "name": "New patient questionnaire",
            "fields": [
                {"key": "reason", "type": "long_text", "label": "What brings you in?", "required": True},
                {
                    "key": "consent",
                    "type": "checkbox",
                    "label": "I agree to the treatment terms",
                    "required": True,
                },
            ],
        },
    )
    api.insert(
        owner,
        "booking_type_forms",
        {"workspace_id": workspace_id, "booking_type_id": types["Assessment"], "form_id": form["id"]},
    )
    dressings = api.insert(
        owner,
        "inventory_items",
        {
            "workspace_id": workspace_id,
            "name": "Wound dressings",
            "unit": "packs",
            "quantity": 3,
            "low_stock_threshold": 2,
        },
    )
    api.insert(
        owner,
        "booking_type_inventory_usage",
        {
            "workspace_id": workspace_id,
            "booking_type_id": types["Dressing change"],
            "item_id": dressings["id"],
            "quantity_per_booking": 2,
        },
    )
    say(
        "   the intake form goes with every Assessment;"
        " a Dressing change uses 2 of 3 packs of wound dressings"
    )
    invitation = api.rpc(owner, "invite_member", p_workspace_id=workspace_id, p_email=f"sam@{domain}")[0]
    staff = sign_up(api, f"sam@{domain}", "Sam Staff")
    api.rpc(staff, "accept_invitation", p_token=invitation["token"])
    say(f"   invite_member -> Sam ({invitation['email']}) signs up and accept_invitation: staff")
    report = api.rpc_value(owner, "activate_workspace", p_workspace_id=workspace_id)
    assert report["activated"], report
    say(f"   activate_workspace -> activated: {report['activated']}, status {report['status']}")
    show_dashboard(api, owner, workspace_id, "after onboarding")

    step("2. Customers book on the public page (anon)")
    page = api.rpc_value(ANON, "get_booking_page", p_workspace_slug=slug)
    say(
        f"   get_booking_page -> {page['workspace']['name']}:"
        f" {', '.join(t['name'] for t in page['booking_types'])}"
    )
    today = dt.datetime.now(zone).date()
    now = dt.datetime.now(dt.UTC)
    walk_in_start = min(s for s in open_starts(api, slug, types["Dressing change"], today, 1) if s > now)
    walk_in = api.rpc(
        ANON,
        "book_appointment",
        p_workspace_slug=slug,
        p_booking_type_id=types["Dressing change"],
        p_starts_at=walk_in_start,
        p_name="Ivo Petrov",
        p_email=f"ivo@{domain}",
        p_phone="+447700900109",
    )[0]
    say(
        f"   Ivo Petrov books a Dressing change at {walk_in_start.astimezone(zone):%H:%M}"
        " (the next open minute)"
    )
    # A reminder goes to bookings made at least 24 h ahead: Kai books the first minute that is,
    # and the reminder sweep finds it due once that minute is 24 h away.
    tomorrow = open_starts(api, slug, types["Dressing change"], today + dt.timedelta(days=1), 1)
    reminded = api.rpc(
        ANON,
        "book_appointment",
        p_workspace_slug=slug,
        p_booking_type_id=types["Dressing change"],
        p_starts_at=min(
            start for start in tomorrow if start >= dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        ),
        p_name="Kai Sato",
        p_email=f"kai@{domain}",
        p_phone="+447700900110",
    )[0]
    say(f"   Kai Sato books a Dressing change 24 h ahead, {reminded['starts_at'].astimezone(zone):%a %H:%M}")
    slots = open_starts(api, slug, types["Assessment"], today, 7)
    days = daytime_slots(slots, zone, today)
    say(f"   get_available_slots (Assessment, 8 days) -> {len(slots)} open starts")
    bookings = []
    # One visit later today (the reminder sweep's business), the others over the coming week.
    later_today = [
        start
        for start in slots
        if start.astimezone(zone).date() == today
        and start > dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        and start.minute % 30 == 0
    ]
    for n, (name, phone) in enumerate(CUSTOMERS):
        day = sorted(days)[n % len(days)]
        starts_at = days[day][(n * 3) % len(days[day])]
        if n == len(CUSTOMERS) - 1 and later_today:
            starts_at = later_today[0]
        kind = "Assessment" if n % 2 == 0 else "Follow-up"
        email = f"{name.split()[0].lower()}@{domain}"
        booked = api.rpc(
            ANON,
            "book_appointment",
            p_workspace_slug=slug,
            p_booking_type_id=types[kind],
            p_starts_at=starts_at,
            p_name=name,
            p_email=email,
            p_phone=phone,
        )[0]
        bookings.append({**booked, "name": name, "email": email, "phone": phone, "type": kind})
        local = booked["starts_at"].astimezone(zone)
        article = "an" if kind[0] in "AEIOU" else "a"
        say(f"   {name} books {article} {kind} on {local:%a %d %b %H:%M} with {booked['practitioner_name']}")
    counts = wait_for_delivery(api, workspace_id, delivery_timeout)
    say(f"   the worker delivers confirmations, welcomes and form requests: {counts.get('sent', 0)} sent")
    show_dashboard(api, owner, workspace_id, "after the bookings")

    step("3. Manage links: one cancels, one reschedules (anon, by token)")
    cancelled = api.rpc(
        ANON, "cancel_booking", p_token=bookings[2]["manage_token"], p_reason="Feeling better"
    )[0]
    say(f"   {bookings[2]['name']} cancels -> {cancelled['status']}")
    moved_from = bookings[3]["starts_at"]
    later = sorted(
        s
        for s in open_starts(api, slug, types[bookings[3]["type"]], today, 14)
        if s > moved_from + dt.timedelta(days=1) and 9 <= s.astimezone(zone).hour < 17
    )[0]
    moved = api.rpc(ANON, "reschedule_booking", p_token=bookings[3]["manage_token"], p_new_starts_at=later)[0]
    say(
        f"   {bookings[3]['name']} moves {moved_from.astimezone(zone):%a %H:%M}"
        f" -> {moved['starts_at'].astimezone(zone):%a %d %b %H:%M} (same booking, same link)"
    )

    step("4. A form filled in by its link (anon, by token)")
    # The stored request says '/forms/…': the token goes in only in what the worker sends
    # (rebuilt here as its claim does, from the submission's nonce).
    body = api.as_platform(
        "select private.with_booking_tokens(m.body, null, null, private.derived_token(s.id, s.token_nonce))"
        " as body from public.messages as m join public.form_submissions as s on m.form_submission_id = s.id"
        " where m.booking_id = %s and m.template_kind = 'form_request' and m.channel = 'email'",
        [bookings[0]["booking_id"]],
    )[0]["body"]
    match = re.search(r"/forms/([A-Za-z0-9_-]+)", body)
    assert match, body
    token = match.group(1)
    say(f"   {bookings[0]['name']} opens the link in the form request email ({match.group(0)[:20]}...)")
    to_fill = api.rpc(ANON, "get_form", p_token=token)[0]
    say(
        f"   get_form -> {to_fill['form_name']} for the visit on"
        f" {to_fill['booking_starts_at'].astimezone(zone):%a %d %b}"
    )
    done = api.rpc(
        ANON,
        "submit_form",
        p_token=token,
        p_answers=json.dumps({"reason": "Knee pain after running", "consent": True}),
    )[0]
    say(f"   submit_form -> {done['status']}")

    step("5. Customers write in: an SMS (Twilio) and an email (Resend), signed webhooks to edge_api")
    texter = bookings[1]
    api.twilio_sms(texter["phone"], sms_number, "Hi, is there parking near the clinic?")
    say(f"   {texter['name']} texts {sms_number}: 'Hi, is there parking near the clinic?'")
    answer = api.resend_email(
        "Jo Marsh <jo.marsh@example.test>",
        front_desk,
        "Do you treat shoulders?",
        "Hello, do you treat frozen shoulder?",
    )
    say(f"   Jo Marsh (new) emails {front_desk}: 'Do you treat shoulders?' -> {answer['outcome']}")
    show_dashboard(api, owner, workspace_id, "after the inbound messages")

    step("6. Sam works the inbox: reads, replies (automation pauses for the contact)")
    unread = api.select(
        staff,
        "select v.id, v.unread_count, c.name from public.conversations v"
        " join public.contacts c on c.id = v.contact_id"
        " where v.workspace_id = %s and v.unread_count > 0 order by v.last_message_at desc nulls last",
        [workspace_id],
    )
    say("   unread: " + ", ".join(f"{row['name']} ({row['unread_count']})" for row in unread))
    texter_conversation = next(row["id"] for row in unread if row["name"] == texter["name"])
    api.rpc(staff, "mark_conversation_read", p_conversation_id=texter_conversation)
    reply = api.rpc(
        staff,
        "send_message",
        p_conversation_id=texter_conversation,
        p_body="Yes: the Quay Street car park is two minutes away. See you soon!",
        p_channel="sms",
    )[0]
    paused = api.select(
        staff, "select automation_paused_until from public.conversations where id = %s", [texter_conversation]
    )[0]["automation_paused_until"]
    say(
        f"   Sam replies by SMS ({reply['status']}); automation for {texter['name']}"
        f" paused until {paused.astimezone(zone):%a %d %b %H:%M}"
    )
    jo = next(row["id"] for row in unread if row["name"] == "Jo Marsh")
    api.rpc(staff, "mark_conversation_read", p_conversation_id=jo)
    api.rpc(
        staff,
        "send_message",
        p_conversation_id=jo,
        p_channel="email",
        p_subject="Re: Do you treat shoulders?",
        p_body="We do. Book an Assessment on our page and we will take a look.",
    )
    say("   Sam answers Jo by email")
    # While paused, what automation would send Bea is recorded, not sent: she moves her visit.
    bea_slots = [
        start
        for start in open_starts(api, slug, types[texter["type"]], today, 7)
        if start > texter["starts_at"] and start.astimezone(zone).hour in range(9, 17)
    ]
    api.rpc(ANON, "reschedule_booking", p_token=texter["manage_token"], p_new_starts_at=bea_slots[0])
    notice = api.select_written(
        staff,
        "select status, skip_reason from public.messages where booking_id = %s"
        " and template_kind = 'booking_rescheduled' and channel = 'sms'",
        [texter["booking_id"]],
    )[0]
    say(
        f"   {texter['name']} then moves her visit: the automated notice is"
        f" {notice['status']} ({notice['skip_reason']})"
    )
    late = bookings[5]
    api.twilio_sms(late["phone"], sms_number, "Running 10 minutes late on Wednesday, sorry!")
    say(
        f"   {late['name']} texts: 'Running 10 minutes late on Wednesday, sorry!' (left unread for the inbox)"
    )

    step("7. The visit happens: Ivo's dressing change is completed (stock falls below its threshold)")
    wait = (walk_in["starts_at"] - dt.datetime.now(dt.UTC)).total_seconds()
    if wait > 0:
        say(f"   waiting {wait:.0f} s for {walk_in['starts_at'].astimezone(zone):%H:%M}, when it starts")
        time.sleep(wait + 0.5)
    completed = api.rpc(staff, "complete_booking", p_booking_id=walk_in["booking_id"])[0]
    stock = api.select(staff, "select quantity from public.inventory_items where id = %s", [dressings["id"]])[
        0
    ]
    say(
        f"   complete_booking -> {completed['status']};"
        f" wound dressings {stock['quantity']:g} left (threshold 2)"
    )

    step("8. The sweeps pg_cron runs (run now, as it runs them)")
    wait = (reminded["starts_at"] - dt.timedelta(days=1) - dt.datetime.now(dt.UTC)).total_seconds()
    if wait > 0:
        say(f"   waiting {wait:.0f} s until Kai's visit is 24 h away")
        time.sleep(wait + 0.5)
    # Each counts over every workspace of the database, as its schedule does.
    for function, what in [
        ("private.send_due_reminders()", "reminders queued for bookings in the next 24 h"),
        ("private.mark_overdue_forms()", "forms sent over 48 h ago marked overdue"),
        ("private.check_low_stock()", "low-stock check (alerts, owner emails)"),
        ("private.fill_dashboard_days()", "closed days counted for the dashboard"),
    ]:
        result = api.as_platform(f"select {function} as result")[0]["result"]
        say(f"   {function:32} {what}: {json.dumps(result)}")
    counts = wait_for_delivery(api, workspace_id, delivery_timeout)
    say(
        f"   the worker delivers: {counts.get('sent', 0)} sent, {counts.get('skipped', 0)} skipped"
        f" (automation paused, no address, ...), {counts.get('failed', 0)} failed"
    )
    stats = show_dashboard(api, owner, workspace_id, "end of the day")

    step("Sign in and look")
    owner_token = jwt.encode(owner.claims, LOCAL_JWT_SECRET, algorithm="HS256")
    say(f"   owner  {owner.claims['email']} / {PASSWORD}    staff  {staff.claims['email']} / {PASSWORD}")
    say(f"   public page: get_booking_page('{slug}')")
    say(f"   curl -sS -H 'Authorization: Bearer {owner_token}' \\")
    say(f"     '{api.api_url}/dashboard/stats?workspace_id={workspace_id}'")
    return {
        "workspace_id": str(workspace_id),
        "slug": slug,
        "owner": owner.claims["email"],
        "staff": staff.claims["email"],
        "dashboard": stats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api-url", required=True, help="edge_api, e.g. http://127.0.0.1:8000")
    parser.add_argument("--twilio-auth-token", default=LOCAL_TWILIO_AUTH_TOKEN)
    parser.add_argument("--resend-webhook-secret", default=LOCAL_RESEND_WEBHOOK_SECRET)
    parser.add_argument("--delivery-timeout", type=float, default=90, help="seconds to wait for the worker")
    parser.add_argument(
        "--summary", type=Path, help="also write what was made and the last dashboard as JSON"
    )
    args = parser.parse_args(argv)
    host = urlsplit(args.database_url).hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1", ""}:
        print(
            f"demo: refusing to write demo accounts into a database on {host}: local databases only",
            file=sys.stderr,
        )
        return 2
    api = Api(args.database_url, args.api_url, args.twilio_auth_token, args.resend_webhook_secret)
    try:
        try:
            health = api.http.get("/health")
        except httpx.HTTPError as exc:
            print(
                f"demo: edge_api does not answer at {args.api_url} ({exc}): start the stack with `make dev`",
                file=sys.stderr,
            )
            return 1
        if health.status_code != 200:
            print(f"demo: edge_api is not healthy: {health.text}", file=sys.stderr)
            return 1
        summary = run(api, args.delivery_timeout)
    finally:
        api.close()
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
