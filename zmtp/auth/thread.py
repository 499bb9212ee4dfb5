"""``ThreadAuthenticator``: the ZAP handler in a thread of its own, as pyzmq's.

The thread blocks on the ZAP socket and answers each request; :meth:`stop` (or the
context's termination) closes the socket, which ends the blocked receive, and the
thread with it. No polling loop, no sleeps.
"""

from __future__ import annotations

import threading
from typing import Any

from zmtp.auth.base import Authenticator
from zmtp.errors import ZMQError

__all__ = ["ThreadAuthenticator"]


class ThreadAuthenticator(Authenticator):
    """Run ZAP authentication in a background thread: ``start()``, configure, ``stop()``."""

    def __init__(self, context: Any = None, encoding: str = "utf-8", log: Any = None) -> None:
        super().__init__(context, encoding=encoding, log=log)
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind the ZAP endpoint and start answering in the background."""
        super().start()
        self.thread = threading.Thread(
            target=self._serve, args=(self.zap_socket,), name="zmtp-zap", daemon=True
        )
        self.thread.start()

    def _serve(self, sock: Any) -> None:
        while True:
            try:
                request = sock.recv_multipart()
            except ZMQError:  # closed by stop(), or the context was terminated
                break
            try:
                reply = self.reply_for(request)
                if reply is not None:
                    sock.send_multipart(reply)
            except ZMQError:
                break
        if not sock.closed:
            sock.close(linger=0)

    def stop(self) -> None:
        """Close the ZAP socket and wait for the thread to end."""
        thread, self.thread = self.thread, None
        super().stop()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def is_alive(self) -> bool:
        """Whether the handler thread is running."""
        return self.thread is not None and self.thread.is_alive()
