from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from surveys.models import Wave
        from surveys.selectors import recent_waves_forget

        def forget(sender: Any, instance: Wave, **kwargs: Any) -> None:
            # Now and once committed (a thread could read the old row meanwhile);
            # every code, since the code itself may have changed.
            recent_waves_forget()
            transaction.on_commit(recent_waves_forget)

        post_save.connect(forget, sender=Wave, dispatch_uid="surveys.recent_waves.save")
        post_delete.connect(forget, sender=Wave, dispatch_uid="surveys.recent_waves.delete")
