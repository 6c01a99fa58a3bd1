from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from analytics.hooks import on_response_submitted
        from surveys.signals import response_submitted

        response_submitted.connect(on_response_submitted, dispatch_uid="analytics.recompute")
