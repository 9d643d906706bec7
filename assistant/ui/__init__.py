"""The Gradio front end (``veille serve``). See ``assistant.ui.app.build_app``."""
from assistant.ui.app import Tab, build_app, launch_options, register_tab
from assistant.ui.context import UIContext

__all__ = ["Tab", "UIContext", "build_app", "launch_options", "register_tab"]
