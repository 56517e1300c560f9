"""Prepares the peer's database after `django-admin migrate`: the benchmark's users
(bench0, bench1, … with the password given) and the benchmark's service, registered as a
pattern that matches the service URL and its paths, releasing the user's last name, first name
and e-mail as `nom`, `prenom` and `email` (the nearest a Django user has to Pronote's profile).

    python -m cas_peer.prepare --service http://127.0.0.1:<port>/pronote/ --users 16 \
        --password <password>
"""

import argparse
import os
import re

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cas_peer.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402

from cas_server.models import ReplaceAttributName, ServicePattern  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    for n in range(args.users):
        username = f"bench{n}"
        if not User.objects.filter(username=username).exists():
            User.objects.create_user(
                username,
                email=f"{username}@example.invalid",
                password=args.password,
                first_name="Banc",
                last_name=f"Élève{n}",
            )

    pattern = "^" + re.escape(args.service) + ".*$"
    service, _ = ServicePattern.objects.get_or_create(
        pattern=pattern, defaults={"name": "Pronote (banc d'essai)", "pos": 100}
    )
    for name, replace in [("last_name", "nom"), ("first_name", "prenom"), ("email", "email")]:
        ReplaceAttributName.objects.get_or_create(
            name=name, replace=replace, service_pattern=service
        )
    print(f"{args.users} utilisateurs, service {pattern}")


if __name__ == "__main__":
    main()
