"""A loopback SMTP sink for tests: accepts every mail and writes each one, as received, to
DIR/<n>.eml (written to a temporary name first, then renamed, so a reader never sees half a
mail). Prints `listening on HOST:PORT` once it accepts connections, then `received N <Message-ID>`
per mail. Port 0 binds a free port. Runs until killed. Needs aiosmtpd (see smtp-sink.sh)."""

import argparse
import asyncio
import email.parser
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.directory, f"{self.count:06d}.eml")
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            f.write(f"X-Sink-Mail-From: {envelope.mail_from}\r\n".encode())
            f.write(f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, name)
        message_id = email.parser.BytesParser().parsebytes(data, headersonly=True).get("Message-ID", "")
        print(f"received {self.count} {message_id}", flush=True)
        return "250 OK"


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp-sink", auth_require_tls=False), args.host, args.port
    )
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
