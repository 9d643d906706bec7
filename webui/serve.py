"""Run the Gradio app: offline settings, warm model, queue sized for concurrent sessions."""
from __future__ import annotations

import os
import signal
import socket
import threading
import time

from assistant.ask_socket import serve_asks
from assistant.service import get_assistant
from veille.config import Settings, get_settings
from watch.schedule import background_scheduler
from webui.app import build_app


def offline_gradio() -> None:
    """No analytics, no version check, no share link (the stack must not call home)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("GRADIO_SERVER_NAME", "127.0.0.1")
    os.environ["GRADIO_SHARE"] = "False"


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise OSError(f"port {port} indisponible ({exc.strerror or exc})") from None


def stop_on_sigterm() -> None:
    """A service manager (systemd, docker stop, kill) stops the server with SIGTERM: make it a Ctrl-C, so the
    same clean stop runs (Gradio closes, the `veille ask` socket file is removed) instead of an abrupt exit."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def start(host: str = "127.0.0.1", port: int = 7860, settings: Settings | None = None, assistant=None,
          concurrency: int = 8, block: bool = True, warm: bool = True, say=print, schedule_minutes: float | None = None,
          ask_socket: bool = False, **app_options):
    """Warm the models, build the app and launch it; returns the Blocks (already serving). With
    ``schedule_minutes``, ``veille run --due`` also runs every that many minutes in a background thread; with
    ``ask_socket``, `veille ask` is answered too, on a socket in the home (``app.veille_ask_socket``)."""
    offline_gradio()

    settings = settings or get_settings()
    ensure_port_free(host, port)  # fail at once, not after loading the model
    if assistant is None:

        assistant = get_assistant(settings)
    if warm:
        t0 = time.perf_counter()
        say("Préchauffage du modèle et ouverture du corpus…")
        assistant.warm_up()
        say(f"Modèle prêt en {time.perf_counter() - t0:.1f} s.")
    app = build_app(assistant, settings, **app_options)
    app.queue(default_concurrency_limit=concurrency, max_size=256)
    app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, inbrowser=False,
               **app.veille_launch_options)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    say(f"Veille est prête : http://{shown}:{port}  (Ctrl-C pour arrêter)")
    app.veille_ask_socket = serve_asks(assistant, settings, say) if ask_socket else None
    if app.veille_ask_socket:
        say(f"« veille ask » passe par ce serveur (socket {app.veille_ask_socket.path}).")
    if schedule_minutes:
        app.veille_scheduler = background_scheduler(settings, schedule_minutes, say)
        say(f"Planification active : ce qui est dû est fait toutes les {schedule_minutes:g} min.")
    if block:
        stop_on_sigterm()
        try:
            while app.is_running:  # Gradio's block_thread, with the stop said in French
                time.sleep(0.2)
        except KeyboardInterrupt:
            say("Arrêt demandé : fermeture du serveur.")
        finally:
            if app.veille_ask_socket:
                app.veille_ask_socket.close()
            app.close(verbose=False)  # Gradio would print « Closing server running on port: 7860 »
            say(f"Serveur arrêté (port {port} libéré).")
    return app
