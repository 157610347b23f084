from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo county (天长市) and load_demo: above every other app, imported by none."""

    name = "demo"
    verbose_name = "演示数据"
