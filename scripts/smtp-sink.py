"""A loopback SMTP sink for tests: accepts every mail and writes each one, as received, to
DIR/<n>.eml (written to a temporary name first, then renamed, so a reader never sees half a
mail). Prints `listening on HOST:PORT` once it accepts connections, then `received N <Message-ID>`
per mail. Port 0 binds a free port. Runs until killed. Needs aiosmtpd (see smtp-sink.sh).

With `--tls-cert FILE --tls-key FILE` (PEM) it speaks TLS as `--mode` says: `starttls` offers
STARTTLS and refuses mail until the client took it (port 587 style), `smtps` is TLS from the first
byte (port 465 style). Without them it is clear-text SMTP."""

import argparse
import asyncio
import email.parser
import os
import ssl
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
    parser.add_argument("--tls-cert", help="the server's certificate chain, PEM")
    parser.add_argument("--tls-key", help="the server's private key, PEM")
    parser.add_argument("--mode", choices=["starttls", "smtps"], help="how TLS is spoken (needs --tls-cert)")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key) or bool(args.tls_cert) != bool(args.mode):
        parser.error("--tls-cert, --tls-key and --mode go together")
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir)
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    starttls = context if args.mode == "starttls" else None

    def session():
        return SMTP(
            handler,
            hostname="smtp-sink",
            auth_require_tls=False,
            tls_context=starttls,
            require_starttls=starttls is not None,
        )

    loop = asyncio.get_running_loop()
    implicit = context if args.mode == "smtps" else None
    server = await loop.create_server(session, args.host, args.port, ssl=implicit)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
