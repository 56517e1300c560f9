"""An OpenID Connect relying party that nobody here wrote, against Préau's provider: Authlib
from PyPI (its requests client `OAuth2Session`, its OpenID Connect claim rules `CodeIDToken`
and its discovery metadata rules, with the JOSE library Authlib itself verifies ID tokens
with: joserfc since Authlib 1.6, `authlib.jose` before). Driven by
crates/preau/tests/sso_oidc_interop.rs.

Steps: discovery (checked by Authlib's metadata rules), an authorization URL with PKCE S256, a
state and a nonce built by Authlib; a `requests` session plays the browser through Préau's
login form (the form's hidden `csrf_token`, then POST /connexion) and stops at the redirect to
the registered redirect URI (no server needs to listen there): the code, `state` and `iss`
(RFC 9207) are read from its Location. Authlib exchanges the code (HTTP Basic client
authentication and the PKCE verifier); the ID token's signature is verified against the JWKS
and its `iss`, `aud`, `nonce`, `exp`, `iat` and `at_hash` by Authlib's rules (which are shown to
refuse a wrong nonce, a wrong audience and an altered signature). Then userinfo with the access
token, and the refresh token used once (a second use must be refused).

    python3 scripts/oidc_rp.py --server http://127.0.0.1:<port> --client-id <id> \
        --client-secret <secret> --redirect-uri <uri> --login <login> --password <password>

Prints one JSON object on standard output. Exit codes: 0 when every step went as the
protocol says; 1 when one did not (the reason on standard error); 3 when Authlib or requests
is missing. Nothing is sent anywhere but to the loopback: other hosts are refused.

Préau's cookies are `Secure` (with the `__Host-` prefix) on the loopback too, which browsers
treat as a secure context; Python's cookie jar keeps `Secure` cookies for https, so the browser
session marks loopback cookies as not secure before each request, to send them as a browser
would.
"""

import argparse
import html.parser
import ipaddress
import json
import os
import sys
import urllib.parse

try:
    import requests
    from authlib.common.security import generate_token
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc6749.errors import OAuth2Error
    from authlib.oidc.core import CodeIDToken
    from authlib.oidc.discovery import OpenIDProviderMetadata
except ImportError as missing:
    print(
        f"module Python manquant : {missing.name} (paquets PyPI authlib et requests ; "
        "lancez bash scripts/test.sh, qui les installe)",
        file=sys.stderr,
    )
    sys.exit(3)

# Authlib verifies JWTs with joserfc (its author's JOSE library) since 1.6; older releases
# (Debian's python3-authlib) with their own `authlib.jose`. Either is Authlib's JOSE.
try:
    from joserfc import jwt as joserfc_jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet
except ImportError:
    joserfc_jwt = None
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.jose.errors import JoseError

# The metadata rules of RFC 9207 and RP-Initiated Logout, in the Authlib releases that have
# them (checked by hand otherwise).
try:
    from authlib.oauth2 import rfc9207
    from authlib.oidc import rpinitiated

    METADATA_EXTENSIONS = [rfc9207.AuthorizationServerMetadata, rpinitiated.OpenIDProviderMetadata]
except ImportError:
    METADATA_EXTENSIONS = []


class StepFailed(Exception):
    """A step that did not go as OpenID Connect says."""


def on_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Browser(requests.Session):
    """A browser on the loopback: no proxy from the environment, cookies sent as a browser
    sends them to a secure context."""

    def __init__(self):
        super().__init__()
        self.trust_env = False

    def request(self, method, url, *args, **kwargs):
        if not on_loopback(url):
            raise StepFailed(f"le navigateur ne sort pas de la boucle locale : {url}")
        for cookie in self.cookies:
            if cookie.secure:
                cookie.secure = False
        # Each hop is looked at: redirects are never followed blindly.
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


class FormReader(html.parser.HTMLParser):
    """The hidden fields of the form posted to `action`, and a `<meta http-equiv=refresh>`
    target."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.inside = False
        self.hidden = {}
        self.refresh_to = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        elif tag == "input" and self.inside and attributes.get("type") == "hidden":
            self.hidden[attributes.get("name") or ""] = attributes.get("value") or ""
        elif tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            content = attributes.get("content") or ""
            lowered = content.lower()
            if "url=" in lowered:
                self.refresh_to = content[lowered.index("url=") + 4 :].strip().strip("'\"")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def read_page(text, action=""):
    reader = FormReader(action)
    reader.feed(text)
    return reader


def next_hop(server, response):
    """Where a response sends the browser: a redirect, or a page that refreshes. `None` for
    anything else."""
    if response.status_code in (301, 302, 303, 307, 308):
        target = response.headers.get("Location", "")
    elif response.status_code == 200:
        target = read_page(response.text).refresh_to
    else:
        target = None
    return urllib.parse.urljoin(server + "/", target) if target else None


def log_in_and_authorize(browser, server, authorization_url, redirect_uri, login, password):
    """Follows the authorization URL through Préau's login form; the Location of the
    redirect to the registered redirect URI (not followed)."""
    url = authorization_url
    logged_in = False
    for _ in range(8):
        if url.startswith(redirect_uri):
            return url
        if not url.startswith(server + "/"):
            raise StepFailed(f"Préau envoie le navigateur vers une adresse inattendue : {url}")
        response = browser.get(url)
        path = urllib.parse.urlsplit(url).path
        if path == "/connexion" and response.status_code == 200:
            if logged_in:
                raise StepFailed("Préau redemande la connexion après une connexion réussie")
            form = read_page(response.text, "/connexion").hidden
            if not form.get("csrf_token"):
                raise StepFailed("le formulaire de connexion n'a pas de jeton csrf_token")
            form.update({"login": login, "password": password})
            response = browser.post(server + "/connexion", data=form)
            logged_in = True
            if response.status_code == 401:
                raise StepFailed("identifiant ou mot de passe refusé par Préau")
        hop = next_hop(server, response)
        if hop is None:
            raise StepFailed(f"{path} a répondu {response.status_code} sans renvoyer ailleurs")
        url = hop
    raise StepFailed("trop de redirections avant le retour à l'application")


def refused(check):
    """Whether a check raises (the negative controls of the validation)."""
    try:
        check()
    except (JoseError, ValueError, KeyError):
        return True
    return False


def verify_signature(token, jwks, algorithms):
    """The claims and header of a JWT whose signature verifies with a key of the JWKS, with
    one of the algorithms the discovery document lists."""
    if joserfc_jwt is not None:
        decoded = joserfc_jwt.decode(token, KeySet.import_key_set(jwks), algorithms=algorithms)
        return decoded.claims, decoded.header
    decoded = JsonWebToken(algorithms).decode(token, JsonWebKey.import_key_set(jwks))
    return dict(decoded), dict(decoded.header)


def validate_id_token(id_token, jwks, metadata, client_id, nonce, access_token):
    """Authlib's own ID token check for the code flow: the signature against the JWKS, then
    `CodeIDToken` checks iss, aud, exp, iat, nonce and at_hash. Also returns whether the same
    check refuses a wrong nonce, a wrong audience and an altered signature."""
    algorithms = metadata["id_token_signing_alg_values_supported"]

    def check(token, expected_nonce, expected_client):
        claims, header = verify_signature(token, jwks, algorithms)
        id_claims = CodeIDToken(
            claims,
            header,
            {"iss": {"values": [metadata["issuer"]]}},
            {"nonce": expected_nonce, "client_id": expected_client, "access_token": access_token},
        )
        id_claims.validate(leeway=5)
        return claims, header

    claims, header = check(id_token, nonce, client_id)
    head, body, signature = id_token.split(".")
    altered = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    controls = {
        "wrong_nonce_refused": refused(lambda: check(id_token, nonce + "x", client_id)),
        "wrong_audience_refused": refused(lambda: check(id_token, nonce, client_id + "x")),
        "altered_signature_refused": refused(lambda: check(altered, nonce, client_id)),
    }
    return claims, header, controls


def run(args):
    server = args.server.rstrip("/")
    for url in (server, args.redirect_uri):
        if not on_loopback(url):
            raise StepFailed(f"adresse hors de la boucle locale refusée : {url}")
    # Authlib refuses http:// endpoints unless told otherwise: only the loopback is used here.
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

    backchannel = requests.Session()
    backchannel.trust_env = False
    discovery = backchannel.get(server + "/.well-known/openid-configuration", timeout=10)
    discovery.raise_for_status()
    metadata = OpenIDProviderMetadata(discovery.json())
    if METADATA_EXTENSIONS:
        metadata.validate(metadata_classes=METADATA_EXTENSIONS)
    else:
        metadata.validate()
    if metadata.get("authorization_response_iss_parameter_supported") is not True:
        raise StepFailed("le document de découverte n'annonce pas le paramètre iss (RFC 9207)")
    if not metadata.get("end_session_endpoint"):
        raise StepFailed("le document de découverte n'annonce pas de end_session_endpoint")
    if metadata["issuer"] != server:
        raise StepFailed(f"l'émetteur annoncé est {metadata['issuer']}, pas {server}")

    client = OAuth2Session(
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope="openid profile email",
        redirect_uri=args.redirect_uri,
        code_challenge_method="S256",
    )
    client.trust_env = False
    code_verifier = generate_token(64)
    nonce = generate_token(24)
    authorization_url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )

    browser = Browser()
    location = log_in_and_authorize(
        browser, server, authorization_url, args.redirect_uri, args.login, args.password
    )
    returned = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    if returned.get("iss") != metadata["issuer"]:
        raise StepFailed(f"la réponse d'autorisation n'a pas le bon iss : {returned.get('iss')}")

    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=location,
        state=state,
        code_verifier=code_verifier,
    )
    jwks = backchannel.get(metadata["jwks_uri"], timeout=10)
    jwks.raise_for_status()
    claims, header, controls = validate_id_token(
        token["id_token"], jwks.json(), metadata, args.client_id, nonce, token["access_token"]
    )

    userinfo = client.get(metadata["userinfo_endpoint"], timeout=10)
    userinfo.raise_for_status()

    first_refresh_token = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh_token)
    reuse_error = None
    try:
        client.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh_token)
    except (OAuthError, OAuth2Error) as error:
        reuse_error = error.error

    return {
        "issuer": metadata["issuer"],
        "iss_in_authorization_response": returned.get("iss"),
        "state_returned": returned.get("state") == state,
        "token_type": token.get("token_type"),
        "scope": token.get("scope"),
        "id_token_header": header,
        "id_token_claims": claims,
        "validation_controls": controls,
        "userinfo": userinfo.json(),
        "refreshed": bool(refreshed.get("access_token"))
        and refreshed.get("refresh_token") != first_refresh_token,
        "second_use_of_refresh_token": reuse_error,
    }


def main():
    parser = argparse.ArgumentParser(description="Partie utilisatrice OpenID Connect (Authlib)")
    for name in ("--server", "--client-id", "--client-secret", "--redirect-uri", "--login"):
        parser.add_argument(name, required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    try:
        result = run(args)
    except (StepFailed, OAuthError, OAuth2Error, JoseError, ValueError, KeyError) as error:
        print(f"échec : {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except requests.RequestException as error:
        print(f"échec : Préau ne répond pas comme prévu : {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
