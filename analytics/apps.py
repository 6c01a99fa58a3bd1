from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from analytics.hooks import on_population_changed, on_response_submitted
        from surveys.signals import population_changed, response_submitted

        response_submitted.connect(on_response_submitted, dispatch_uid="analytics.recompute")
        population_changed.connect(on_population_changed, dispatch_uid="analytics.reweight")
