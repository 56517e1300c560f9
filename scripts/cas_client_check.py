"""A CAS login round trip against Préau with a client library nobody here wrote: `python-cas`
from PyPI (`cas.CASClient(version=3)`), driven by crates/preau/tests/sso_cas_interop.rs.

A `requests` session plays the browser: it asks for the client's login URL
(`/cas/login?service=…`), is sent to Préau's login form, posts the login and password with the
form's hidden token, follows Préau back to `/cas/login`, and reads the service ticket from the
redirect to the service. python-cas then validates the ticket over the back channel
(`/cas/p3/serviceValidate`) and parses the answer; the script prints, as one JSON object, the
user and attributes python-cas read, and what a second validation of the same ticket gave
(tickets are single use).

    python3 scripts/cas_client_check.py --server http://127.0.0.1:<port> \
        --service http://127.0.0.1:<port>/pronote/ --login alice.martin --password <password> \
        [--activation-code <code> [--birth-date 07/03/2013]]

With `--activation-code`, the account is first activated through Préau's activation form with
that password. Exit codes: 0 with the JSON on standard output; 1 when a step fails (the reason
on standard error); 3 when python-cas or requests is missing.

Préau's cookies are `Secure` (`__Host-` prefixed) even on the loopback, as browsers treat
127.0.0.1 as a secure context; Python's cookie jar sends `Secure` cookies only over https, so
the session lifts that flag on loopback cookies, to send them as a browser would. Nothing is
sent anywhere but to the loopback: the script refuses other hosts.
"""

import argparse
import html.parser
import ipaddress
import json
import sys
import urllib.parse

try:
    import cas
    import requests
except ImportError as error:
    print(f"module Python manquant : {error.name} (python-cas, requests)", file=sys.stderr)
    sys.exit(3)


class Failure(Exception):
    """A step of the round trip that did not go as the CAS protocol says."""


def is_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackBrowser(requests.Session):
    """A session that sends `Secure` cookies to loopback hosts over plain http, as browsers
    do. (A cookie policy would not do: requests copies the cookies into a jar of its own, with
    the default policy, before each request; so the flag is lifted on the session's cookies.)
    """

    def __init__(self):
        super().__init__()
        self.trust_env = False  # no proxy from the environment: loopback only

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            if cookie.secure and is_loopback(f"http://{cookie.domain}/"):
                cookie.secure = False
        return response


class HiddenInputs(html.parser.HTMLParser):
    """The hidden inputs of the first form whose action is `action`, and a meta refresh."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.in_form = False
        self.done = False
        self.fields = {}
        self.refresh = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            content = attrs.get("content") or ""
            _, _, target = content.partition("=")
            if "url" in content.lower() and target:
                self.refresh = target.strip().strip("'\"")
        if self.done:
            return
        if tag == "form" and attrs.get("action") == self.action:
            self.in_form = True
        elif tag == "input" and self.in_form and attrs.get("type") == "hidden":
            self.fields[attrs.get("name") or ""] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
            self.done = True


def parse(page, action):
    parser = HiddenInputs(action)
    parser.feed(page)
    return parser


def same_server(server, location):
    """An absolute URL for a Location that may be relative, refused unless on `server`."""
    url = urllib.parse.urljoin(server + "/", location)
    if urllib.parse.urlsplit(url)[:2] != urllib.parse.urlsplit(server)[:2]:
        raise Failure(f"redirection inattendue hors de Préau : {location}")
    return url


def activate(session, server, login, code, birth_date, password):
    page = session.get(server + "/activation", allow_redirects=False)
    if page.status_code != 200:
        raise Failure(f"/activation a répondu {page.status_code}")
    token = parse(page.text, "/activation").fields.get("csrf_token")
    if not token:
        raise Failure("pas de jeton csrf_token dans le formulaire d'activation")
    answer = session.post(
        server + "/activation",
        data={
            "csrf_token": token,
            "login": login,
            "code": code,
            "birth_date": birth_date or "",
            "password": password,
            "password_confirm": password,
        },
        allow_redirects=False,
    )
    if answer.status_code not in (302, 303) or "/connexion" not in answer.headers.get(
        "Location", ""
    ):
        raise Failure(f"l'activation de {login} a répondu {answer.status_code}")


def log_in_and_get_ticket(session, server, login_url, login, password):
    """Follows the client's login URL through Préau's login form; the Location that carries
    the ticket."""
    answer = session.get(login_url, allow_redirects=False)
    if answer.status_code in (302, 303):
        form_url = same_server(server, answer.headers["Location"])
        if not urllib.parse.urlsplit(form_url).path == "/connexion":
            raise Failure(f"/cas/login sans session renvoie vers {form_url}, pas /connexion")
        answer = session.get(form_url, allow_redirects=False)
    if answer.status_code != 200:
        raise Failure(f"le formulaire de connexion a répondu {answer.status_code}")
    fields = parse(answer.text, "/connexion").fields
    if not fields.get("csrf_token"):
        raise Failure("pas de jeton csrf_token dans le formulaire de connexion")
    fields.update({"login": login, "password": password})
    answer = session.post(server + "/connexion", data=fields, allow_redirects=False)
    if answer.status_code in (302, 303):
        back = answer.headers["Location"]
    elif answer.status_code == 200 and parse(answer.text, "").refresh:
        # A page that sends the browser on with <meta http-equiv="refresh"> (the site's CSP
        # keeps a form from redirecting to another origin).
        back = parse(answer.text, "").refresh
    else:
        raise Failure(f"la connexion de {login} a répondu {answer.status_code}")
    back = same_server(server, back)
    if not urllib.parse.urlsplit(back).path.startswith("/cas/login"):
        raise Failure(f"après la connexion, Préau renvoie vers {back}, pas /cas/login")

    answer = session.get(back, allow_redirects=False)
    if answer.status_code not in (302, 303):
        raise Failure(f"/cas/login avec une session a répondu {answer.status_code}")
    return answer.headers["Location"]


def ticket_of(location, service):
    """The ticket of the redirect to the service (which must be the service itself)."""
    parts = urllib.parse.urlsplit(location)
    expected = urllib.parse.urlsplit(service)
    if (parts.scheme, parts.netloc, parts.path) != (
        expected.scheme,
        expected.netloc,
        expected.path,
    ):
        raise Failure(f"Préau renvoie vers {location}, pas vers le service {service}")
    tickets = urllib.parse.parse_qs(parts.query).get("ticket", [])
    if len(tickets) != 1:
        raise Failure(f"la redirection vers le service n'a pas un seul ticket : {location}")
    return tickets[0]


def main():
    parser = argparse.ArgumentParser(description="Aller-retour CAS avec python-cas")
    parser.add_argument("--server", required=True, help="http://127.0.0.1:<port> de Préau")
    parser.add_argument("--service", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--activation-code")
    parser.add_argument("--birth-date")
    args = parser.parse_args()
    server = args.server.rstrip("/")
    if not is_loopback(server) or not is_loopback(args.service):
        print("le serveur et le service doivent être sur la boucle locale", file=sys.stderr)
        return 1

    client = cas.CASClient(version=3, server_url=server + "/cas/", service_url=args.service)
    client.session.trust_env = False
    session = LoopbackBrowser()
    try:
        if args.activation_code:
            activate(
                session,
                server,
                args.login,
                args.activation_code,
                args.birth_date,
                args.password,
            )
        location = log_in_and_get_ticket(
            session, server, client.get_login_url(), args.login, args.password
        )
        ticket = ticket_of(location, args.service)
        user, attributes, _ = client.verify_ticket(ticket)
        if user is None:
            raise Failure(f"python-cas n'a pas validé le ticket (réponse : {attributes})")
        replay_user, _, _ = client.verify_ticket(ticket)
    except (Failure, requests.RequestException, KeyError) as error:
        print(f"échec : {error}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "user": user,
                "attributes": attributes or {},
                "ticket_prefix": ticket[:3],
                "ticket_length": len(ticket),
                "second_validation_user": replay_user,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
