from tests.notifications.conftest import deliver, reachable, recorders

__all__ = ["deliver", "reachable", "recorders"]
