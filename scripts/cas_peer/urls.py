"""The peer's URLs: django-cas-server under /cas/, as Préau serves its own CAS endpoints, so
that the load generator sends the same paths to both."""

from django.urls import include, path

urlpatterns = [
    path("cas/", include("cas_server.urls", namespace="cas_server")),
]
