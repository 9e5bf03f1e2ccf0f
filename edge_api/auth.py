"""Verifying Supabase access tokens: the legacy HS256 secret and asymmetric keys from the JWKS URL."""

import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from edge_api.errors import ApiError
from edge_api.settings import Settings

ASYMMETRIC_ALGORITHMS = frozenset({"ES256", "RS256"})
REQUIRED_CLAIMS = ["exp", "sub", "aud"]


@dataclass(frozen=True)
class VerifiedUser:
    """A signed-in user whose token checked out; `claims` is what PostgREST puts in request.jwt.claims."""

    id: uuid.UUID
    claims: dict[str, Any]


def _invalid(details: str) -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        details,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


class TokenVerifier:
    """Checks signature, algorithm, audience, expiry (with leeway), issuer (when configured) and subject.

    Holds only caches that each process may rebuild on its own (the JWKS), so any
    number of processes can verify tokens independently.
    """

    def __init__(self, settings: Settings) -> None:
        self._secret = (
            settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None
        )
        self._jwks = (
            jwt.PyJWKClient(
                str(settings.supabase_jwks_url),
                cache_jwk_set=True,
                lifespan=settings.jwks_cache_seconds,
                cooldown_duration=settings.jwks_refresh_cooldown_seconds,
                timeout=settings.jwks_timeout_seconds,
            )
            if settings.supabase_jwks_url
            else None
        )
        self._audience = settings.jwt_audience
        self._issuer = settings.supabase_jwt_issuer
        self._leeway = settings.jwt_leeway_seconds

    def can_verify_offline(self, token: str) -> bool:
        """Whether `verify` needs no network: HS256 with the secret, or a `kid` already in the JWKS cache.

        Malformed tokens count as offline too: they are refused without a fetch.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return True
        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC_ALGORITHMS or self._jwks is None:
            return True
        cached = self._jwks.jwk_set_cache.get() if self._jwks.jwk_set_cache is not None else None
        if cached is None:
            return False
        return any(key.key_id == header.get("kid") for key in cached.keys)

    def _key_for(self, token: str, algorithm: str) -> Any:
        if algorithm == "HS256" and self._secret is not None:
            return self._secret
        if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            try:
                return self._jwks.get_signing_key_from_jwt(token)
            except jwt.PyJWKClientConnectionError as exc:
                # The token may be fine; we cannot tell without the keys.
                raise ApiError(503, "unavailable", "The project's signing keys cannot be fetched.") from exc
            except jwt.PyJWTError as exc:
                raise _invalid("The token was not signed by any of this project's signing keys.") from exc
        raise _invalid(f"Tokens signed with {algorithm!r} are not accepted.")

    def verify(self, token: str) -> VerifiedUser:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _invalid("The token is not a well-formed JWT.") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str):
            raise _invalid("The token names no signing algorithm.")
        key = self._key_for(token, algorithm)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS + (["iss"] if self._issuer else [])},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _invalid("The token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise _invalid(
                f"The token is not meant for this API (audience must be {self._audience!r})."
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise _invalid("The token was issued by another project.") from exc
        except jwt.InvalidSignatureError as exc:
            raise _invalid("The token's signature does not match.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise _invalid(f"The token lacks the {exc.claim!r} claim.") from exc
        except jwt.PyJWTError as exc:
            raise _invalid("The token is invalid.") from exc
        try:
            user_id = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise _invalid("The token's subject is not a user id.") from exc
        if claims.get("role", "authenticated") != "authenticated":
            raise _invalid("Only signed-in users' tokens are accepted here.")
        return VerifiedUser(user_id, claims)
