"""The auth matrix over HTTP: who gets the dashboard, who gets 401, who gets 404."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from tests.edge_api_support import (
    JwksServer,
    World,
    app_for,
    bearer,
    committed_world,
    new_key,
    now,
    user_token,
)
from tests.support import DEFAULT_JWT_SECRET


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with committed_world(db_url) as committed:
        yield committed


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.keys = [new_key("ES256"), new_key("RS256")]
        yield server


@pytest.fixture(scope="module")
def client(db_url: str, jwks: JwksServer) -> Iterator[TestClient]:
    app = app_for(db_url, supabase_jwks_url=jwks.url, jwks_refresh_cooldown_seconds=0)
    with TestClient(app) as test_client:
        yield test_client


def stats(client: TestClient, workspace_id: uuid.UUID, headers: dict[str, str] | None = None) -> Any:
    return client.get("/dashboard/stats", params={"workspace_id": str(workspace_id)}, headers=headers or {})


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["code"], body["message"]) == (f"PT{status}", code), body
    assert set(body) == {"code", "message", "details", "hint"}


def claims_of(world: World, **changes: Any) -> dict[str, Any]:
    return {k: v for k, v in (world.owner.claims() | changes).items() if v is not None}


def test_no_token_is_401_not_authenticated(client: TestClient, world: World) -> None:
    response = stats(client, world.workspace_a)
    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_another_scheme_is_not_a_token(client: TestClient, world: World) -> None:
    assert_error(
        stats(client, world.workspace_a, {"Authorization": "Basic b3duZXI6cHc="}), 401, "not_authenticated"
    )


def hs256_none(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, None, algorithm="none")


REFUSED: dict[str, Any] = {
    "malformed": lambda w, _: "not.a.jwt",
    "garbage": lambda w, _: "garbage",
    "bad signature": lambda w, _: user_token(w.owner, secret="another-projects-secret-with-32-characters!"),
    "expired": lambda w, _: user_token(w.owner, exp=now() - 60),
    "wrong audience": lambda w, _: user_token(w.owner, aud="service"),
    "no audience": lambda w, _: user_token(w.owner, aud=None),
    "no expiry": lambda w, _: user_token(w.owner, exp=None),
    "no subject": lambda w, _: user_token(w.owner, sub=None),
    "subject not a uuid": lambda w, _: user_token(w.owner, sub="owner"),
    "service_role claims": lambda w, _: user_token(w.owner, role="service_role"),
    "alg none": lambda w, _: hs256_none(claims_of(w)),
    "alg none, no signature part": lambda w, _: hs256_none(claims_of(w)).rsplit(".", 1)[0],
    "HS384 with the right secret": lambda w, _: jwt.encode(
        claims_of(w), DEFAULT_JWT_SECRET, algorithm="HS384"
    ),
    "ES256, key not published": lambda w, _: new_key("ES256").sign(claims_of(w)),
    "ES256, forged under a published kid": lambda w, keys: new_key("ES256").sign(
        claims_of(w), kid=keys[0].kid
    ),
    "RS256 signed with the EC kid": lambda w, keys: keys[1].sign(claims_of(w), kid=keys[0].kid),
    "ES256, expired": lambda w, keys: keys[0].sign(claims_of(w, exp=now() - 60)),
    "ES256, wrong audience": lambda w, keys: keys[0].sign(claims_of(w, aud="anon")),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_tokens_are_401_invalid_token(
    client: TestClient, world: World, jwks: JwksServer, case: str
) -> None:
    token = REFUSED[case](world, jwks.keys)
    response = stats(client, world.workspace_a, bearer(token))
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_algorithm_confusion_hs256_keyed_with_the_public_key_is_refused(
    client: TestClient, world: World, jwks: JwksServer
) -> None:
    """The classic forgery: HS256 whose HMAC secret is the project's (public) EC key in PEM."""
    public_pem = (
        jwks.keys[0]
        .private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": jwks.keys[0].kid}).encode())
    payload = b64(json.dumps(claims_of(world)).encode())
    signature = b64(hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest())
    token = b".".join([header, payload, signature]).decode()
    assert_error(stats(client, world.workspace_a, bearer(token)), 401, "invalid_token")


ACCEPTED: dict[str, Any] = {
    "HS256 (legacy secret)": lambda w, _: user_token(w.owner),
    "HS256 expired within the leeway": lambda w, _: user_token(w.owner, exp=now() - 3),
    "ES256 via JWKS": lambda w, keys: keys[0].sign(claims_of(w)),
    "RS256 via JWKS": lambda w, keys: keys[1].sign(claims_of(w)),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_valid_tokens_get_the_dashboard(
    client: TestClient, world: World, jwks: JwksServer, case: str
) -> None:
    response = stats(client, world.workspace_a, bearer(ACCEPTED[case](world, jwks.keys)))
    assert response.status_code == 200, response.text
    assert response.json()["workspace"]["id"] == str(world.workspace_a)


def test_the_key_set_is_cached(client: TestClient, world: World, jwks: JwksServer) -> None:
    stats(client, world.workspace_a, bearer(jwks.keys[0].sign(claims_of(world))))
    before = jwks.fetches
    for _ in range(3):
        assert (
            stats(client, world.workspace_a, bearer(jwks.keys[0].sign(claims_of(world)))).status_code == 200
        )
    assert jwks.fetches == before


def test_a_rotated_in_key_is_fetched_on_its_first_token(
    client: TestClient, world: World, jwks: JwksServer
) -> None:
    rotated = new_key("ES256")
    stats(client, world.workspace_a, bearer(jwks.keys[0].sign(claims_of(world))))  # set cached
    jwks.keys.append(rotated)
    before = jwks.fetches
    response = stats(client, world.workspace_a, bearer(rotated.sign(claims_of(world))))
    assert response.status_code == 200, response.text
    assert jwks.fetches == before + 1


def test_unreachable_signing_keys_are_503_not_401(db_url: str, world: World, jwks: JwksServer) -> None:
    app = app_for(db_url, supabase_jwks_url=jwks.url)
    jwks.failing = True
    try:
        with TestClient(app) as fresh:
            assert_error(
                stats(fresh, world.workspace_a, bearer(jwks.keys[0].sign(claims_of(world)))),
                503,
                "unavailable",
            )
            # HS256 tokens do not need the key set.
            assert stats(fresh, world.workspace_a, bearer(user_token(world.owner))).status_code == 200
    finally:
        jwks.failing = False


def test_asymmetric_tokens_are_refused_without_a_jwks_url(
    db_url: str, world: World, jwks: JwksServer
) -> None:
    with TestClient(app_for(db_url)) as hs256_only:
        response = stats(hs256_only, world.workspace_a, bearer(jwks.keys[0].sign(claims_of(world))))
    assert_error(response, 401, "invalid_token")


def test_hs256_is_refused_without_a_secret(db_url: str, world: World, jwks: JwksServer) -> None:
    with TestClient(app_for(db_url, supabase_jwt_secret=None, supabase_jwks_url=jwks.url)) as jwks_only:
        assert_error(
            stats(jwks_only, world.workspace_a, bearer(user_token(world.owner))), 401, "invalid_token"
        )
        assert (
            stats(jwks_only, world.workspace_a, bearer(jwks.keys[0].sign(claims_of(world)))).status_code
            == 200
        )


def test_issuer_is_checked_when_configured(db_url: str, world: World) -> None:
    issuer = "https://project-ref.supabase.co/auth/v1"
    with TestClient(app_for(db_url, supabase_jwt_issuer=issuer)) as checking:
        assert (
            stats(checking, world.workspace_a, bearer(user_token(world.owner, iss=issuer))).status_code == 200
        )
        assert_error(
            stats(checking, world.workspace_a, bearer(user_token(world.owner))), 401, "invalid_token"
        )


# --- membership: valid users, the right and the wrong workspaces ---------------------------------


def test_a_member_of_another_workspace_gets_404_not_data(client: TestClient, world: World) -> None:
    response = stats(client, world.workspace_a, bearer(user_token(world.owner_b)))
    assert_error(response, 404, "not_found")
    assert "workspace" not in response.text.replace("No such workspace", "")


def test_an_outsider_gets_the_same_404_as_for_a_workspace_that_does_not_exist(
    client: TestClient, world: World
) -> None:
    token = bearer(user_token(world.outsider))
    existing = stats(client, world.workspace_a, token)
    missing = stats(client, uuid.uuid4(), token)
    assert_error(existing, 404, "not_found")
    assert existing.json() == missing.json()


def test_a_token_for_a_deleted_user_sees_nothing(client: TestClient, world: World) -> None:
    """A signed token whose user is gone is not a signed-in user: 401, as from every RPC that
    guards with private.require_user (the dashboard checks membership with private.require_role)."""
    from tests.support import User

    ghost = User(uuid.uuid4(), "ghost@example.test")
    assert_error(stats(client, world.workspace_a, bearer(user_token(ghost))), 401, "not_authenticated")


def test_staff_get_the_dashboard_without_invitations(client: TestClient, world: World) -> None:
    response = stats(client, world.workspace_a, bearer(user_token(world.staff[0])))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["members"] == {"owners": 2, "staff": len(world.staff)}
    assert body["invitations"] is None


def test_owners_get_the_dashboard_with_invitations(client: TestClient, world: World) -> None:
    response = stats(client, world.workspace_a, bearer(user_token(world.co_owner)))
    assert response.status_code == 200, response.text
    assert response.json()["invitations"] == {"pending": world.pending_invitations}


def test_the_owner_of_b_sees_b_not_a(client: TestClient, world: World) -> None:
    body = stats(client, world.workspace_b, bearer(user_token(world.owner_b))).json()
    assert body["workspace"]["id"] == str(world.workspace_b)
    assert body["members"] == {"owners": 1, "staff": 0}
    assert body["invitations"] == {"pending": 3}


def test_authentication_is_checked_before_the_parameters(client: TestClient) -> None:
    assert_error(client.get("/dashboard/stats", params={"workspace_id": "nope"}), 401, "not_authenticated")


def test_a_malformed_workspace_id_is_400_invalid_parameter(client: TestClient, world: World) -> None:
    token = bearer(user_token(world.owner))
    assert_error(
        client.get("/dashboard/stats", params={"workspace_id": "nope"}, headers=token),
        400,
        "invalid_parameter",
    )
    assert_error(client.get("/dashboard/stats", headers=token), 400, "invalid_parameter")


def test_only_tokens_that_may_need_the_key_set_fetched_leave_the_event_loop(
    db_url: str, world: World, jwks: JwksServer
) -> None:
    """HS256 and cached keys are checked inline; an unknown `kid` (a fetch) goes to the threadpool."""
    verifier = app_for(db_url, supabase_jwks_url=jwks.url).state.token_verifier
    first, rotated = jwks.keys[0], new_key("ES256")
    assert verifier.can_verify_offline(user_token(world.owner))
    assert verifier.can_verify_offline("not a token")  # refused without a fetch
    assert not verifier.can_verify_offline(first.sign(claims_of(world)))  # nothing cached yet
    verifier.verify(first.sign(claims_of(world)))
    assert verifier.can_verify_offline(first.sign(claims_of(world)))
    assert not verifier.can_verify_offline(rotated.sign(claims_of(world)))  # unknown kid: a fetch
