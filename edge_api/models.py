"""Response models: what GET /dashboard/stats returns (public.dashboard_stats's JSON, validated).

Every section is computed by private.dashboard_stats_at in one call, under the caller's
RLS; days are the workspace's local days.
"""

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

Count = Annotated[int, Field(ge=0)]
Quantity = Annotated[int | float, Field(ge=0)]


class WorkspaceSummary(BaseModel):
    id: uuid.UUID
    name: str
    timezone: str = Field(description="IANA time zone of the workspace.")
    status: Literal["draft", "active", "suspended"]
    today_local: dt.date = Field(description="Today's date in the workspace's time zone.")


class MemberCounts(BaseModel):
    owners: Count
    staff: Count


class InvitationCounts(BaseModel):
    pending: int = Field(ge=0, description="Open invitations: not accepted, not revoked, not expired.")


class BookingOutcomes(BaseModel):
    """Bookings that started in the last 30 days ([now - 30 days, now)), by status."""

    completed: Count
    no_show: Count
    cancelled: Count


class PractitionerDay(BaseModel):
    practitioner_id: uuid.UUID
    full_name: str = Field(description="The practitioner's profile name ('' when they have not set one).")
    bookings: Count = Field(description="Bookings today that are not cancelled.")


class BookingStats(BaseModel):
    """Bookings by the workspace's local day."""

    today: Count = Field(description="Bookings starting today (local day), not cancelled.")
    next_7_days: Count = Field(
        description="Bookings starting in the 7 local days after today, not cancelled."
    )
    last_30_days: BookingOutcomes
    today_by_practitioner: list[PractitionerDay] = Field(
        description="Every active practitioner (and an inactive one holding bookings today), busiest first."
    )


class LeadStats(BaseModel):
    """Contacts and conversations."""

    new_contacts_7_days: Count = Field(description="Contacts created in the last 7 days.")
    new_contacts_30_days: Count = Field(description="Contacts created in the last 30 days.")
    open_conversations: Count = Field(description="Conversations with a message in the last 30 days.")
    unread_conversations: Count = Field(description="Conversations with unread inbound messages.")
    unread_messages: Count = Field(description="Inbound messages not read yet, over all conversations.")


class FormStats(BaseModel):
    """Intake form submissions."""

    pending: Count = Field(
        description="Sent, not filled in, not yet overdue (the hourly sweep marks overdue)."
    )
    overdue: Count = Field(description="Not filled in 48 hours after they were sent.")
    completed_30_days: Count = Field(description="Filled in during the last 30 days.")


class LowStockItem(BaseModel):
    id: uuid.UUID
    name: str
    unit: str
    quantity: Quantity
    low_stock_threshold: Quantity


class InventoryStats(BaseModel):
    """Stock."""

    items: Count = Field(description="Active items.")
    low_stock_count: Count = Field(description="Active items at or below their low-stock threshold.")
    low_stock: list[LowStockItem] = Field(
        description="At most 20 of them, the emptiest relative to its threshold first."
    )


class AlertSummary(BaseModel):
    id: uuid.UUID
    kind: str
    severity: Literal["info", "warning", "critical"]
    text: str
    subject_type: str = Field(description="The table of the row the alert is about, singular.")
    subject_id: uuid.UUID
    created_at: dt.datetime


class AlertStats(BaseModel):
    """Open alerts."""

    open: Count = Field(description="Open (unresolved) alerts.")
    open_by_kind: dict[str, Count] = Field(description="Open alerts by kind; kinds without one are left out.")
    newest: list[AlertSummary] = Field(description="The 5 newest open alerts.")


class DashboardStats(BaseModel):
    """Everything the staff dashboard shows, computed in one call for a member of the workspace."""

    workspace: WorkspaceSummary
    members: MemberCounts
    invitations: InvitationCounts | None = Field(description="null for staff: only owners read invitations.")
    bookings: BookingStats
    leads: LeadStats
    forms: FormStats
    inventory: InventoryStats
    alerts: AlertStats
