"""Response models: what GET /dashboard/stats returns (public.dashboard_stats's JSON, validated).

Sections marked "later" are computed by SQL that later issues add to
private.dashboard_stats_at; until then they are null. Their shape here is the
contract that SQL fills.
"""

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

Count = Annotated[int, Field(ge=0)]


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
    completed: Count
    no_show: Count
    cancelled: Count


class PractitionerDay(BaseModel):
    practitioner_id: uuid.UUID
    full_name: str
    bookings: Count


class BookingStats(BaseModel):
    """(later) Bookings by the workspace's local day."""

    today: Count
    next_7_days: Count
    last_30_days: BookingOutcomes
    today_by_practitioner: list[PractitionerDay]


class LeadStats(BaseModel):
    """(later) Contacts and conversations."""

    new_contacts_7_days: Count
    new_contacts_30_days: Count
    open_conversations: Count
    unread_conversations: Count
    unread_messages: Count


class FormStats(BaseModel):
    """(later) Intake form submissions."""

    pending: Count
    overdue: Count
    completed_30_days: Count


class LowStockItem(BaseModel):
    id: uuid.UUID
    name: str
    quantity: int
    low_stock_threshold: int


class InventoryStats(BaseModel):
    """(later) Stock."""

    items: Count
    low_stock: list[LowStockItem]


class AlertSummary(BaseModel):
    id: uuid.UUID
    kind: str
    created_at: dt.datetime


class AlertStats(BaseModel):
    """(later) Open alerts."""

    open_by_kind: dict[str, int]
    newest: list[AlertSummary]


class DashboardStats(BaseModel):
    """Everything the staff dashboard shows, computed in one call under the caller's RLS."""

    workspace: WorkspaceSummary
    members: MemberCounts
    invitations: InvitationCounts | None = Field(description="null for staff: only owners read invitations.")
    bookings: BookingStats | None = None
    leads: LeadStats | None = None
    forms: FormStats | None = None
    inventory: InventoryStats | None = None
    alerts: AlertStats | None = None
