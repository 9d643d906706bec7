"""`veille brief`: a note de synthèse in Markdown on a topic, with the usual filters."""
from __future__ import annotations

from pathlib import Path

from assistant.service import get_assistant
from cli.console import err, out
from cli.options import add_filter_args, filters_from_args
from watch.brief import make_brief


def cmd_brief(args) -> int:
    topic = " ".join(args.topic).strip()
    if not topic:
        err.print("Donnez le sujet de la note, par exemple : veille brief \"cybersécurité des PME\" --since 2019")
        return 2
    filters = filters_from_args(args)
    with err.status("Recherche des passages et rédaction de la note…"):
        briefing = make_brief(get_assistant(), topic, filters, n_passages=args.passages, max_themes=args.themes)
    text = briefing.markdown()
    if args.output:
        path = Path(args.output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            err.print(f"Impossible d'écrire la note dans « {path} » : {exc.strerror or exc}.")
            return 1
        out.print(f"Note de synthèse écrite dans [bold]{path}[/] ({len(briefing.themes)} thèmes, "
                  f"{len(briefing.sources)} sources, mode {briefing.mode}).", highlight=False)
    else:
        print(text)
    if briefing.notice:
        err.print(f"[yellow]{briefing.notice}[/]")
    return 0 if not briefing.empty else 1


def configure(p) -> None:
    p.add_argument("topic", nargs="*", metavar="sujet", help="le sujet, par exemple « cybersécurité des PME »")
    p.add_argument("-o", "--output", metavar="FICHIER", help="fichier Markdown à écrire (sinon la sortie standard)")
    p.add_argument("--passages", type=int, default=24, metavar="N", help="passages retenus (défaut 24)")
    p.add_argument("--themes", type=int, default=4, metavar="N", help="nombre maximal de thèmes (défaut 4)")
    add_filter_args(p)
    p.set_defaults(func=cmd_brief)
