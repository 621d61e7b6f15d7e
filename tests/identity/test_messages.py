"""Identity sends its codes through the messenger notifications provides when it loads: a web
process has it from the start, so the first registration code of a fresh process goes out."""

from __future__ import annotations

import subprocess
import sys


def test_a_web_process_has_the_messenger_once_the_app_is_loaded() -> None:
    script = (
        "import tongban.web.app\n"
        "from tongban.identity import messages\n"
        "print(type(messages.messenger()).__name__)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )

    assert result.stdout.strip() == "_IdentityMessenger"


def test_a_process_without_notifications_says_so() -> None:
    script = "from tongban.identity import messages\nmessages.messenger()\n"

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )

    assert result.returncode == 1
    assert "no messenger" in result.stderr
