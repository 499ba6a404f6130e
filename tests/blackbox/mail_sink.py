"""A local SMTP sink (aiosmtpd) that keeps what it receives, and the settings that point a server
at it: shared by the mail tests."""

import email
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address):
        """The messages received for `address`, oldest first."""
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address, count=1, timeout=20):
        """The first `count` messages for `address`, once they arrived."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.to(address)
            if len(got) >= count:
                return got[:count]
            time.sleep(0.1)
        raise AssertionError(f"{count} mail(s) for {address} did not arrive: "
                             f"{[m['To'] for m in self.messages]}")


def start_sink(port):
    """A started sink on 127.0.0.1:port: (controller, handler); stop the controller after."""
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler


def smtp_env(port):
    return {
        "IIC_SMTP_HOST": "127.0.0.1",
        "IIC_SMTP_PORT": str(port),
        "IIC_SMTP_FROM": "iic@example.test",
        "IIC_SMTP_TLS": "none",
    }


def wait_for_log(server, text, timeout=10):
    """The server's log once it holds `text` (the log is written in batches)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        log = server.log(tail=None)
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the log:\n{server.log()}")


def body_of(message):
    """The plain-text body of a received message."""
    payload = message.get_payload(decode=True)
    return payload.decode(message.get_content_charset() or "utf-8")
