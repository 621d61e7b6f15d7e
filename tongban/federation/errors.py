"""Federation errors. A refused message gets one of these; the sender's delivery decides from the
status whether trying again can help (401 and 409 can: a fresh signature, a refreshed registry)."""

from __future__ import annotations

from tongban.errors import Conflict, InvalidInput, TongbanError, Unauthenticated


class FederationNotConfigured(TongbanError):
    code = "federation_not_configured"
    status_code = 409


class NodeInvalid(InvalidInput):
    code = "node_invalid"


class RegistryRefused(TongbanError):
    code = "registry_refused"
    status_code = 422


class MessageRefused(Unauthenticated):
    """Unknown sender, bad signature, or a time outside the accepted window."""

    code = "message_refused"


class MessageReplayed(Conflict):
    code = "message_replayed"


class MessageInvalid(InvalidInput):
    code = "message_invalid"


class UpstreamRefused(Unauthenticated):
    """A sign-in through the parent node's provider that cannot be accepted."""

    code = "upstream_sign_in_refused"


class RemoteRefused(TongbanError):
    """The providing node refused a forwarded call; the code (and status) are the provider's,
    and ``evidence`` its signed refusal's proof (``SignedMessage.evidence``), when it signed one."""

    code = "refused"
    status_code = 403
    evidence: dict[str, str] | None = None


class AnswerNotAuthentic(TongbanError):
    """Another node's answer that is not signed by it for the request it answers: unsigned,
    forged, altered on the way, or another request's answer. It is not used."""

    code = "answer_not_authentic"
    status_code = 502


class CheckpointInvalid(InvalidInput):
    """A child's audit checkpoint that is malformed, not validly signed, or signed with a key
    other than the one its earlier checkpoints were."""

    code = "checkpoint_invalid"


class CheckpointForked(Conflict):
    """A child's checkpoint of a size already witnessed, with another head: two histories."""

    code = "checkpoint_fork"


class CheckpointRolledBack(Conflict):
    """A child's checkpoint smaller than one already witnessed: its log lost entries."""

    code = "checkpoint_rollback"


class WitnessUnavailable(TongbanError):
    """This node has no parent to witness its audit log, or the parent did not answer."""

    code = "witness_unavailable"
    status_code = 502
