"""python manage.py create_api_client NAME: an account for software that enters citizen responses."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from surveys.services.accounts import api_client_ensure


class Command(BaseCommand):
    help = (
        "Create (or show) an API client: an account without a password or admin access that "
        "enters citizen responses on respondents' behalf (telephone, paper). Prints its token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Account name, e.g. cati-centre.")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        user, token = api_client_ensure(username=name)
        self.stdout.write(self.style.SUCCESS(f"API client '{user.username}'."))
        self.stdout.write(f"  token: {token}")
        self.stdout.write("  send it as: Authorization: Token <token>")
