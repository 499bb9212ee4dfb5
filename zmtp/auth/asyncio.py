"""``AsyncioAuthenticator``: the ZAP handler as a task on a :class:`zmtp.asyncio.Context`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from zmtp.auth.base import Authenticator
from zmtp.errors import ZMQError

__all__ = ["AsyncioAuthenticator"]


class AsyncioAuthenticator(Authenticator):
    """Answer ZAP requests in a task of the running loop: ``start()`` inside it."""

    def __init__(self, context: Any = None, encoding: str = "utf-8", log: Any = None) -> None:
        super().__init__(context, encoding=encoding, log=log)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Bind the ZAP endpoint and start the answering task (needs a running loop)."""
        super().start()
        self._task = asyncio.get_running_loop().create_task(self._serve(self.zap_socket))

    async def _serve(self, sock: Any) -> None:
        while True:
            try:
                request = await sock.recv_multipart()
                reply = self.reply_for(request)
                if reply is not None:
                    await sock.send_multipart(reply)
            except ZMQError:
                return

    def stop(self) -> None:
        """Stop the task and close the ZAP socket."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        with contextlib.suppress(ZMQError):
            super().stop()
