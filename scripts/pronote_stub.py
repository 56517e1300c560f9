"""A stand-in for one collège's Pronote, for the browser test (tests/browser/pronote.test.mjs):
a tiny HTTP server on the loopback that is a CAS client of Préau, as Pronote's ENT connector
is. It validates tickets with `python-cas` from PyPI, a client library nobody here wrote.

    python3 scripts/pronote_stub.py --port <port> --cas http://127.0.0.1:<préau port> \
        --college "Collège Jean Moulin"

It serves /pronote/ only:
  - without a ticket, it sends the browser to Préau's /cas/login for its own address, as
    Pronote does;
  - with `?ticket=…`, it validates the ticket on Préau's /cas/p3/serviceValidate for the address
    the browser came to (the same URL without the ticket) and shows a page naming its collège
    and the user and attributes it received (200), or the refusal (403).

It prints `prêt sur http://127.0.0.1:<port>/pronote/` once it listens, and nothing about the
people it serves. It listens on the loopback only and calls nothing but the Préau it is given,
which must be on the loopback too. Exit code 3 when python-cas or requests is missing.
"""

import argparse
import html
import http.server
import ipaddress
import sys
import urllib.parse

try:
    import cas
    import requests  # noqa: F401  (python-cas's transport; checked here for a clear message)
except ImportError as error:
    print(f"module Python manquant : {error.name} (python-cas, requests)", file=sys.stderr)
    sys.exit(3)

PATH = "/pronote/"


def is_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def page(title, college, body):
    return f"""<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body>
<main>
<h1>{html.escape(title)}</h1>
<p id="college">{html.escape(college)}</p>
{body}
</main>
</body>
</html>
""".encode()


class Pronote(http.server.BaseHTTPRequestHandler):
    """One collège's Pronote: its CAS client and its name, set on the class by `main`."""

    cas_server = ""
    college = ""
    base = ""

    def client(self, service):
        client = cas.CASClient(version=3, server_url=self.cas_server, service_url=service)
        client.session.trust_env = False  # loopback only, no proxy from the environment
        return client

    def answer(self, status, body, location=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != PATH:
            self.answer(404, page("Page introuvable", self.college, ""))
            return
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        tickets = [value for name, value in query if name == "ticket"]
        rest = urllib.parse.urlencode([(n, v) for n, v in query if n != "ticket"])
        service = self.base + PATH + (f"?{rest}" if rest else "")
        if not tickets:
            self.answer(302, b"", location=self.client(service).get_login_url())
            return
        try:
            user, attributes, _ = self.client(service).verify_ticket(tickets[0])
        except (requests.RequestException, ValueError) as error:
            user, attributes = None, {"erreur": str(error)}
        if user is None:
            body = '<p id="resultat">Ticket refusé par Préau.</p>'
            self.answer(403, page(f"Pronote – {self.college}", self.college, body))
            return
        rows = [f'<dt>Utilisateur</dt><dd id="user">{html.escape(user)}</dd>']
        for name, value in sorted((attributes or {}).items()):
            text = ", ".join(value) if isinstance(value, list) else str(value)
            rows.append(
                f'<dt>{html.escape(name)}</dt>'
                f'<dd data-attribut="{html.escape(name)}">{html.escape(text)}</dd>'
            )
        body = '<p id="resultat">Ticket validé par Préau.</p>\n<dl>' + "".join(rows) + "</dl>"
        self.answer(200, page(f"Pronote – {self.college}", self.college, body))

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        # Request lines carry tickets: nothing is logged.
        pass


def main():
    parser = argparse.ArgumentParser(description="Pronote de test, client CAS de Préau")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cas", required=True, help="http://127.0.0.1:<port> de Préau")
    parser.add_argument("--college", required=True)
    args = parser.parse_args()
    if not is_loopback(args.cas):
        print("Préau doit être sur la boucle locale", file=sys.stderr)
        return 1
    Pronote.cas_server = args.cas.rstrip("/") + "/cas/"
    Pronote.college = args.college
    Pronote.base = f"http://127.0.0.1:{args.port}"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Pronote)
    print(f"prêt sur {Pronote.base}{PATH}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
