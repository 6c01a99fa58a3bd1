from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from surveys import checks  # noqa: F401 - registers the deployment checks
        from surveys.models import Locality, Wave, WaveLocality
        from surveys.selectors import recent_waves_forget

        def forget(sender: Any, instance: Any, **kwargs: Any) -> None:
            # Now and once committed (a thread could read the old row meanwhile);
            # every code, since the code itself may have changed.
            recent_waves_forget()
            transaction.on_commit(recent_waves_forget)

        post_save.connect(forget, sender=Wave, dispatch_uid="surveys.recent_waves.save")
        post_delete.connect(forget, sender=Wave, dispatch_uid="surveys.recent_waves.delete")
        # A wave's localities are kept with it: adding, removing or renaming one drops them too.
        for model in (WaveLocality, Locality):
            name = model.__name__.lower()
            post_save.connect(forget, sender=model, dispatch_uid=f"surveys.recent_waves.{name}.save")
            post_delete.connect(forget, sender=model, dispatch_uid=f"surveys.recent_waves.{name}.delete")
        m2m_changed.connect(forget, sender=Wave.localities.through, dispatch_uid="surveys.recent_waves.m2m")
