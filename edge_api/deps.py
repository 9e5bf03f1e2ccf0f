"""FastAPI dependencies: settings, the pool, the verified user and a connection under the user's RLS."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from edge_api.auth import TokenVerifier, VerifiedUser
from edge_api.db import transaction_as
from edge_api.errors import ApiError
from edge_api.settings import Settings


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


def get_token_verifier(request: Request) -> TokenVerifier:
    return request.app.state.token_verifier


AppSettings = Annotated[Settings, Depends(app_settings)]
Pool = Annotated[AsyncConnectionPool, Depends(get_pool)]

bearer_token = HTTPBearer(
    auto_error=False,
    scheme_name="SupabaseAccessToken",
    description="The signed-in user's Supabase access token (session.access_token in supabase-js).",
)


def verified_user(
    verifier: Annotated[TokenVerifier, Depends(get_token_verifier)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)],
) -> VerifiedUser:
    """The caller, from a verified token; 401 otherwise. Sync: a JWKS fetch runs in the threadpool."""
    if credentials is None:
        raise ApiError(
            401,
            "not_authenticated",
            "Send the user's access token as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return verifier.verify(credentials.credentials)


CurrentUser = Annotated[VerifiedUser, Depends(verified_user)]


async def user_connection(
    pool: Pool, user: CurrentUser, settings: AppSettings
) -> AsyncIterator[AsyncConnection]:
    """A transaction as `authenticated` with the user's claims: every query runs under their RLS."""
    async with transaction_as(pool, "authenticated", user.claims, settings.db_statement_timeout_ms) as conn:
        yield conn


# scope="function": the transaction ends (and the connection returns to the pool)
# as soon as the endpoint returns, before the response is sent.
UserConnection = Annotated[AsyncConnection, Depends(user_connection, scope="function")]
