"""The WSGI entry point gunicorn serves (`gunicorn cas_peer.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cas_peer.settings")
application = get_wsgi_application()
