"""How long the provider's codes, tokens and retired keys live.

Refresh tokens have no lifetime of their own: they end with the sign-in session they were issued
under (``WebSession.expires_at``), as do the access tokens.
"""

from __future__ import annotations

from datetime import timedelta

# An authorization code only has to survive one redirect and one back-channel call.
CODE = timedelta(seconds=60)
# Access tokens are opaque and checked against the database on every use, so logout and
# revocation take effect at once; a short life bounds what a leaked one is worth.
ACCESS_TOKEN = timedelta(minutes=10)
ID_TOKEN = timedelta(minutes=10)
# A retired signing key stays in the JWKS until the last id_token it signed has expired,
# plus a margin for relying parties whose clocks run slow.
CLOCK_SKEW = timedelta(minutes=5)
RETIRED_KEY_KEPT = ID_TOKEN + CLOCK_SKEW
