"""python manage.py create_manager USERNAME --password P"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.services.accounts import manager_ensure


class Command(BaseCommand):
    help = "Create a survey manager (admin access to surveys). Safe to re-run: resets the password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        try:
            result = manager_ensure(username=username, password=password)
        except ValidationError as exc:
            raise CommandError(f"Password rejected: {' '.join(exc.messages)}") from exc
        verb = "created" if result.created else "updated"
        self.stdout.write(self.style.SUCCESS(f"Survey manager '{username}' {verb}."))
