from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from surveys.models import Wave
        from surveys.selectors import recent_waves_forget

        def forget(sender: Any, instance: Wave, **kwargs: Any) -> None:
            recent_waves_forget()  # the code itself may have changed

        post_save.connect(forget, sender=Wave, dispatch_uid="surveys.recent_waves.save")
        post_delete.connect(forget, sender=Wave, dispatch_uid="surveys.recent_waves.delete")
