"""Identity errors, each with a stable code clients can act on."""

from __future__ import annotations

from tongban.errors import Conflict, Forbidden, NotFound, Unauthenticated


class SignInFailed(Unauthenticated):
    """Wrong username or password, unknown user or locked account: one answer for all three."""

    code = "unauthenticated"


class TotpRequired(Unauthenticated):
    """The password was right; the authenticator code is still needed."""

    code = "totp_required"


class TotpInvalid(Unauthenticated):
    code = "totp_invalid"


class TotpEnrolmentRequired(Forbidden):
    """An official or administrator without an authenticator: they must set one up first."""

    code = "totp_enrolment_required"


class TotpAlreadyEnabled(Conflict):
    code = "totp_already_enabled"


class AccountNotFound(NotFound):
    code = "account_not_found"


class SessionNotFound(NotFound):
    code = "session_not_found"


class LegalPersonNotFound(NotFound):
    code = "legal_person_not_found"


class NotAuthorisedFor(Forbidden):
    """The person is not (or no longer) authorised to act for the legal person."""

    code = "not_authorised_for"


class ClaimCodeInvalid(Unauthenticated):
    code = "claim_code_invalid"
