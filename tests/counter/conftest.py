from tests.notifications.conftest import deliver, recorders

__all__ = ["deliver", "recorders"]
