"""Sending this node's audit checkpoints to its parent, which keeps them as a witness. Run by
``tongban federation run`` each round; only a checkpoint newer than the last one sent goes up.

A refusal (a fork, or a log that went back) is logged as an error for the operator and not sent
again: ``tongban audit verify`` tells what happened to the chain.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import httpx
from sqlalchemy import Engine

from tongban.audit import checkpoints
from tongban.audit.checkpoints import Checkpoint
from tongban.db.session import unit_of_work
from tongban.errors import TongbanError
from tongban.federation import calls
from tongban.federation import repository as federation_repository
from tongban.federation.errors import AnswerNotAuthentic, WitnessUnavailable
from tongban.federation.models import Node
from tongban.federation.witness.service import HELD_PATH, HELD_TYPE, MESSAGE_TYPE, PATH

log = logging.getLogger(__name__)

_lock = threading.Lock()
# The size of the last checkpoint the parent answered for (kept or refused) in this process: a
# restarted process sends the latest again, which the parent takes as a resend.
_answered = 0
# Answers after which the same checkpoint may go through later: the parent's registry does not
# list this node yet, a replayed nonce, the parent failing.
_TRY_AGAIN = {401, 502, 503, 504}


def send_latest(engine: Engine, client: httpx.Client | None = None) -> str:
    """Send the latest checkpoint up if the parent has not answered for it yet; what happened:
    ``nothing`` (none new, or no parent), ``kept``, ``refused`` or ``unreachable``."""
    global _answered
    checkpoint = checkpoints.latest()
    if checkpoint is None or checkpoint.size <= _answered:
        return "nothing"
    found = _parent(engine)
    if found is None:
        return "nothing"
    sender, parent = found
    try:
        answer = _ask(sender, parent, PATH, MESSAGE_TYPE, checkpoint.to_json(), client)
    except (httpx.HTTPError, AnswerNotAuthentic) as exc:
        log.info("no answer from the parent node for the audit checkpoint: %s", exc)
        return "unreachable"
    if answer.status_code in _TRY_AGAIN or b"message_replayed" in answer.body:
        return "unreachable"
    with _lock:
        _answered = max(_answered, checkpoint.size)
    if answer.is_success:
        return "kept"
    log.error(
        "the parent node %s refused audit checkpoint %d: %s",
        parent.code,
        checkpoint.size,
        answer.body.decode("utf-8", "replace")[:300],
    )
    return "refused"


def _parent(engine: Engine) -> tuple[str, Node] | None:
    """This node's code and its parent, if it has one in the registry."""
    with unit_of_work(engine) as session:
        local = federation_repository.local_node(session)
        if local is None or not local.parent_code:
            return None
        parent = federation_repository.node_by_code(session, local.parent_code)
        if parent is None or not parent.active:
            return None
        return local.code, parent


def _ask(
    sender: str,
    parent: Node,
    path: str,
    message_type: str,
    body: dict[str, Any],
    client: httpx.Client | None,
) -> calls.Answer:
    """A request to the parent signed with the node key; its answer, if the parent signed it."""
    sent = calls.signed_post(
        sender=sender,
        recipient=parent.code,
        url=parent.url,
        path=path,
        message_type=message_type,
        body=body,
        client=client,
    )
    return sent.answer_from(parent)


def fetch_held(engine: Engine, client: httpx.Client | None = None) -> tuple[str, list[Checkpoint]]:
    """The parent's code and the checkpoints of this node it keeps, in its signed answer."""
    found = _parent(engine)
    if found is None:
        raise WitnessUnavailable("This node has no parent node to witness its audit log.")
    sender, parent = found
    try:
        answer = _ask(sender, parent, HELD_PATH, HELD_TYPE, {}, client)
    except (httpx.HTTPError, TongbanError) as exc:
        raise WitnessUnavailable(
            "The parent node {node} did not answer: {detail}", node=parent.code, detail=str(exc)
        ) from exc
    if not answer.is_success:
        detail = answer.body.decode("utf-8", "replace")[:300]
        raise WitnessUnavailable(
            "The parent node {node} did not answer: {detail}", node=parent.code, detail=detail
        )
    data = json.loads(answer.body)
    return parent.code, [Checkpoint.from_json(item) for item in data["checkpoints"]]
