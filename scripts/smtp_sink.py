"""A handler for aiosmtpd that keeps every message it receives as one file in a folder, so that
the tests can read what Préau really delivered over SMTP. Run it as

    PYTHONPATH=scripts python3 -m aiosmtpd -n -l 127.0.0.1:<port> -c smtp_sink.FolderSink <folder>

Each message becomes <folder>/<nanoseconds>-<counter>.eml: the envelope (X-Envelope-From,
X-Envelope-To) followed by the message as received. It is written under a temporary name, then
renamed, so that a reader never sees half a message. Nothing is relayed anywhere.
"""

import itertools
import os
import time


class FolderSink:
    """Accepts every message and writes it to the folder given on the command line."""

    def __init__(self, folder):
        self.folder = os.path.abspath(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.counter = itertools.count()

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.FolderSink attend un seul argument : le dossier des messages")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns():020d}-{next(self.counter):06d}"
        temporary = os.path.join(self.folder, f".{name}.tmp")
        final = os.path.join(self.folder, f"{name}.eml")
        header = f"X-Envelope-From: {envelope.mail_from}\r\n"
        header += "".join(f"X-Envelope-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos)
        with open(temporary, "wb") as file:
            file.write(header.encode("utf-8"))
            file.write(envelope.original_content or envelope.content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        return "250 Message accepted for delivery"
