"""Accounts, sign-in and sessions: passwords with lockout, the authenticator (TOTP) second factor,
sessions with absolute and idle timeouts, and their revocation.

Callers use the package (``from tongban.identity import service``); its sub-modules each hold
one job: ``signing_in`` (password, authenticator code and the steps between them), ``sessions``
(opening, resolving, ending and listing sessions), ``authenticator`` (setting up and switching
off the second factor) and ``accounts`` (creating, registering and looking up accounts).
``_common`` holds the helpers they share.
"""

from tongban.identity.service.accounts import (
    MIN_PASSWORD_LENGTH,
    create_account,
    department_officials,
    find_applicant,
    get_by_username,
    person_for_resident,
)
from tongban.identity.service.authenticator import (
    OperatorTotp,
    TotpEnrolment,
    begin_totp_enrolment,
    confirm_totp,
    disable_totp,
    operator_totp,
)
from tongban.identity.service.sessions import (
    account_for_token,
    close_session,
    is_live,
    list_sessions,
    open_session,
    revoke_session,
    session_for_token,
    sign_out_everywhere,
)
from tongban.identity.service.signing_in import (
    PENDING_ENROL,
    PENDING_OTP,
    WRONG_CREDENTIALS,
    authenticate,
    check_totp,
    finish_sign_in,
    pending_sign_in,
    sign_in,
    start_sign_in,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PENDING_ENROL",
    "PENDING_OTP",
    "WRONG_CREDENTIALS",
    "OperatorTotp",
    "TotpEnrolment",
    "account_for_token",
    "authenticate",
    "begin_totp_enrolment",
    "check_totp",
    "close_session",
    "confirm_totp",
    "create_account",
    "department_officials",
    "disable_totp",
    "find_applicant",
    "finish_sign_in",
    "get_by_username",
    "is_live",
    "list_sessions",
    "open_session",
    "operator_totp",
    "pending_sign_in",
    "person_for_resident",
    "revoke_session",
    "session_for_token",
    "sign_in",
    "sign_out_everywhere",
    "start_sign_in",
]
