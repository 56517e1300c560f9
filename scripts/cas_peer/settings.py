"""Django settings of the benchmark's peer CAS server (django-cas-server), production-like: no
debug, SQLite in the folder named by CAS_PEER_DIR, sessions in the database (django-cas-server's
default), passwords hashed with Django's default hasher. The benchmark script (bench-cas.sh)
sets CAS_PEER_DIR and CAS_PEER_SECRET_KEY before running it.

Everything django-cas-server would fetch from another host is switched off or pointed at
nothing: the check for a newer version on PyPI, the e-mails about it, and the CDN style sheets
and scripts of its templates (the load generator never loads them, but a browser would). The
server only ever listens on the loopback.
"""

import os
from pathlib import Path

PEER_DIR = Path(os.environ.get("CAS_PEER_DIR", "."))

SECRET_KEY = os.environ["CAS_PEER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cas_server",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cas_peer.urls"
WSGI_APPLICATION = "cas_peer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite, as Préau's default; WAL and a busy timeout, which a production SQLite setup would use
# with several worker processes, and persistent connections: with Django's default (a
# connection opened and closed per request), the last connection to close checkpoints and
# removes the WAL under an exclusive lock, and the other worker waits on SQLite's busy timeout
# (about 40 ms per round trip at one client).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": PEER_DIR / "peer.sqlite3",
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "fr"
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True
STATIC_URL = "/static/"

# The loopback is plain HTTP: cookies without the Secure flag, as for any local test.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# django-cas-server: nothing fetched from elsewhere, no banner, tickets as in its defaults.
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_NEW_VERSION_JSON_URL = "http://127.0.0.1:9/"
CAS_COMPONENT_URLS = {
    "bootstrap3_css": "",
    "bootstrap3_js": "",
    "html5shiv": "",
    "respond": "",
    "bootstrap4_css": "",
    "bootstrap4_js": "",
    "jquery": "",
}
CAS_SHOW_POWERED = False
CAS_INFO_MESSAGES_ORDER = []
CAS_AUTH_CLASS = "cas_server.auth.DjangoAuthUser"
ADMINS = []
