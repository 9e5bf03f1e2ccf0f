"""One-click unsubscribe links (RFC 8058) for automated email that is not transactional.

The worker signs a message id when it sends the email; edge_api verifies the signature when the
mail client POSTs `List-Unsubscribe=One-Click` to the link. Nothing is stored: the link is built at
delivery time from UNSUBSCRIBE_SIGNING_SECRET, which both processes share. Standard library only,
so edge_api can import it without the worker's dependencies.
"""

import base64
import hashlib
import hmac
import uuid
from urllib.parse import urlencode

PATH = "/email/unsubscribe"


def signature(secret: str, message_id: uuid.UUID) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe:{message_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_valid(secret: str, message_id: uuid.UUID, candidate: str) -> bool:
    return hmac.compare_digest(signature(secret, message_id), candidate)


def link(base_url: str, secret: str, message_id: uuid.UUID) -> str:
    query = urlencode({"m": str(message_id), "s": signature(secret, message_id)})
    return f"{base_url.rstrip('/')}{PATH}?{query}"


def headers(base_url: str, secret: str, message_id: uuid.UUID) -> dict[str, str]:
    """The two headers RFC 8058 asks for: the HTTPS link and the one-click POST marker."""
    return {
        "List-Unsubscribe": f"<{link(base_url, secret, message_id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
