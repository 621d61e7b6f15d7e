"""Security errors. Messages never carry a protected value: at most a name the caller gave."""

from __future__ import annotations

from tongban.errors import Conflict, Forbidden, InvalidInput, NotFound, TongbanError


class SecurityConfigInvalid(InvalidInput):
    """A grades, masking or key file (or a label in someone else's data file) is wrong."""

    code = "security_config_invalid"


class LabelInvalid(SecurityConfigInvalid):
    """A label or clearance names an unknown grade or compartment, or is badly written."""

    code = "label_invalid"


class KeyInvalid(SecurityConfigInvalid):
    """A key has the wrong length or encoding for its suite."""

    code = "key_invalid"


class UnlabelledField(TongbanError):
    # A record reached a read path with a field its schema does not label: a programming or
    # configuration fault on our side, so the read is refused whole rather than guessed at.
    code = "unlabelled_field"
    status_code = 500


class FieldNotUsable(InvalidInput):
    # One error, one status and one message for a field that does not exist and a field the
    # reader may not read, so probing with filter or sort names learns nothing.
    code = "field_not_usable"


class WriteDownRefused(Forbidden):
    code = "write_down_refused"


class DecryptionFailed(TongbanError):
    # Data at rest that fails to decrypt is our fault (tampering, a lost key), never the
    # reader's: a server error, with no detail of the ciphertext in the message.
    code = "decryption_failed"
    status_code = 500


class ChangeNotFound(NotFound):
    code = "security_change_not_found"


class ChangeNotPending(Conflict):
    code = "security_change_not_pending"


class DualControlRefused(Forbidden):
    # One person may not both propose and decide, nor touch their own clearance.
    code = "dual_control_refused"


class SecurityTargetUnknown(NotFound):
    code = "security_target_unknown"
