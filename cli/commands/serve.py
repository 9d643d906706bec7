"""`veille serve`: the web interface."""
from __future__ import annotations

from cli.console import err
from webui.serve import start


def cmd_serve(args) -> int:
    try:
        start(host=args.host, port=args.port, concurrency=args.concurrency, allow_upload=not args.no_upload,
              schedule_minutes=args.schedule, ask_socket=True)
    except OSError as exc:
        err.print(f"Impossible de démarrer le serveur sur {args.host}:{args.port} : {exc}. "
                  "Un autre programme l'utilise peut-être : choisissez un autre port avec --port.")
        return 1
    return 0


def configure(p) -> None:
    p.add_argument("--host", default="127.0.0.1", metavar="ADRESSE", help="adresse d'écoute (défaut : 127.0.0.1, cette machine seule)")
    p.add_argument("--port", type=int, default=7860, metavar="PORT", help="port (défaut : 7860)")
    p.add_argument("--concurrency", type=int, default=8, metavar="N", help="questions traitées en parallèle (défaut : 8)")
    p.add_argument("--no-upload", action="store_true", help="masquer l'ajout de documents dans l'onglet Corpus")
    p.add_argument("--planifier", dest="schedule", type=float, nargs="?", const=15.0, metavar="MINUTES",
                   help="faire aussi ce qui est dû (veille run --due) toutes les MINUTES (défaut 15)")
    p.set_defaults(func=cmd_serve)
