"""One-click unsubscribe (RFC 8058): the mail client POSTs `List-Unsubscribe=One-Click` to the
link in an automated email's List-Unsubscribe header (worker/unsubscribe.py signs it). A valid
signature stops non-transactional automated email to that contact (private.unsubscribe_email);
an invalid one answers 401 invalid_signature and writes nothing. GET is not served: link
scanners follow GETs, and RFC 8058 forbids unsubscribing on one."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from edge_api.deps import AppSettings, Pool
from edge_api.errors import ApiError, ErrorBody
from edge_api.routers.webhooks import call_as_service
from worker import unsubscribe

router = APIRouter(tags=["email"])


class UnsubscribeAck(BaseModel):
    """unsubscribed, or unknown_message (the message is gone or its address changed since)."""

    outcome: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "invalid_signature: the link was not made by CareOps"},
    503: {"model": ErrorBody, "description": "unavailable: the database cannot be reached"},
}


@router.post(unsubscribe.PATH, responses=_ERRORS, response_model=UnsubscribeAck)
async def one_click_unsubscribe(
    settings: AppSettings,
    pool: Pool,
    m: Annotated[uuid.UUID, Query(description="The message whose link this is.")],
    s: Annotated[str, Query(max_length=100, description="Its signature.")],
) -> UnsubscribeAck:
    """Stops automated email that is not transactional (welcome) to the contact the message went to."""
    assert settings.unsubscribe_signing_secret is not None  # mounted only when set
    if not unsubscribe.is_valid(settings.unsubscribe_signing_secret.get_secret_value(), m, s):
        raise ApiError(401, "invalid_signature", "This unsubscribe link is not valid.")
    outcome = await call_as_service(pool, settings, "select private.unsubscribe_email(%s)", [m])
    return UnsubscribeAck(outcome=outcome["outcome"])
