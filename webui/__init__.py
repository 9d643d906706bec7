"""The Gradio front end (``veille serve``): tabs, rendering of answers and sources, login glue.

May import every layer below it (core, ingestion, accounts, assistant); nothing imports it but the CLI."""
from webui.app import TABS, Tab, build_app, launch_options
from webui.context import UIContext

__all__ = ["TABS", "Tab", "UIContext", "build_app", "launch_options"]
