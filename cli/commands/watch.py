"""`veille watch`: saved watches (alerts) over newly ingested or collected documents."""
from __future__ import annotations

import datetime as dt
import json

from rich.markup import escape
from rich.table import Table

from accounts import restrict, user_for_cli
from assistant.service import get_assistant
from cli.console import err, out
from cli.french_argparse import ACTION_HELP
from cli.options import add_filter_args, filters_from_args
from cli.render import print_watch_summary
from veille.config import get_settings
from veille.filters import Filters, source_label
from veille.numbers import decimal, plural
from watch.news import whats_new
from watch.schedule import Interval, set_interval, watch_job
from watch.watches import add_watch, apply_to_existing, list_watches, news, remove_watch, run_watches


def cmd_watch(args) -> int:
    return {"add": _add, "list": _list, "news": _news, "remove": _remove, "run": _run}[args.action](args)


def _add(args) -> int:
    interval = Interval.parse(args.interval) if args.interval else None  # checked before anything is stored
    watch = add_watch(" ".join(args.query), filters_from_args(args), name=args.name, threshold=args.threshold)
    out.print(f"Veille « {watch.name} » enregistrée. Elle examinera les documents ajoutés à partir de maintenant "
              f"(après chaque « veille ingest » ou « veille collect »).", highlight=False)
    if interval is not None:
        set_interval(get_settings(), watch_job(watch.name), interval.text)
        out.print(f"Intervalle : {interval.text} (« veille run --due » la passe quand il est écoulé).", highlight=False)
    if args.existing:
        with err.status("Passage de la veille sur les documents déjà présents…"):
            hits = apply_to_existing(watch)
        out.print(f"Documents déjà présents : {plural(len(hits), 'document pertinent', 'documents pertinents')} "
                  "(veille watch news pour les lire).", highlight=False)
    return 0


def _list(args) -> int:
    watches = list_watches()
    if args.json:
        print(json.dumps([w.__dict__ for w in watches], ensure_ascii=False))
        return 0
    if not watches:
        out.print("Aucune veille. Exemple : veille watch add \"cybersécurité PME\" --filiere numerique")
        return 0
    table = Table(title="Veilles enregistrées")
    for col in ("n°", "nom", "requête", "filtres", "seuil", "dernier passage", "non lus"):
        table.add_column(col, overflow="fold")
    for w in watches:
        f = Filters(**w.filters)
        desc = f.describe() if hasattr(f, "describe") else json.dumps(w.filters, ensure_ascii=False)
        table.add_row(str(w.id), w.name, w.query, desc or "–", f"{w.threshold:.2f}" if w.threshold is not None else "défaut",
                      dt.datetime.fromtimestamp(w.last_run).strftime("%d/%m/%Y %H:%M"), str(w.unseen))
    out.print(table)
    return 0


def _since_visit(args) -> int:
    """« Nouveautés depuis votre dernière visite »: what arrived for this user (--as) since their last visit."""
    filters = restrict(Filters(), user_for_cli(get_settings(), args.as_login)) if args.as_login else Filters()
    found = whats_new(get_assistant(), filters)
    if args.json:
        print(json.dumps({"user": found.user, "since": found.since, "first_visit": found.first_visit,
                          "items": [i.as_dict() for i in found.items]}, ensure_ascii=False))
        return 0
    since = dt.datetime.fromtimestamp(found.since).strftime("%d/%m/%Y %H:%M")
    title = "Première visite : nouveautés des 7 derniers jours" if found.first_visit else \
        f"Nouveautés depuis votre dernière visite ({since})"
    out.print(f"[bold]{title}[/] — {plural(len(found.items), 'document')}", highlight=False)
    if not found.items:
        out.print("  Rien de nouveau qui concerne vos veilles, entités suivies ou filières.")
    for i, item in enumerate(found.items, 1):
        meta = " · ".join(x for x in (item.doc_type, item.date_label, item.url or item.source) if x)
        copies = f" — {item.copies_label()}" if item.copies_label() else ""
        out.print(f"[{i}] [bold]{escape(item.title or item.source)}[/] ({escape(meta)}){copies}", highlight=False)
        out.print(f"    pour : {', '.join(item.reasons)}", highlight=False, markup=False)
        for sentence in item.sentences:
            out.print(f"    « {sentence} »", markup=False, highlight=False)
        for k in item.copies:
            out.print(f"    aussi : {k.source} — {k.title or 'Sans titre'}", markup=False, highlight=False)
    return 0


def _news(args) -> int:
    if args.visit:
        return _since_visit(args)
    found = news(name=args.name, include_seen=args.all, mark_seen=not args.keep)
    if args.json:
        print(json.dumps({k: [h.as_dict() for h in v] for k, v in found.items()}, ensure_ascii=False))
        return 0
    if not found:
        out.print("Aucune veille. Exemple : veille watch add \"cybersécurité PME\" --filiere numerique")
        return 0
    for name, hits in found.items():
        found_text = (plural(len(hits), "document trouvé", "documents trouvés") if args.all
                      else plural(len(hits), "nouveau document", "nouveaux documents"))
        out.print(f"\n[bold]Veille « {name} »[/] — {found_text}", highlight=False)
        if not hits:
            out.print("  Rien de nouveau depuis la dernière lecture.")
        for i, h in enumerate(hits, 1):
            meta = " · ".join(x for x in (h.doc_type, h.date or "", source_label(h.url)) if x)
            out.print(f"\\[{i}] [bold]{escape(h.title or source_label(h.url))}[/] ({escape(meta)}) — pertinence "
                      f"{decimal(h.score, 2)}", highlight=False)
            out.print(f"    « {h.snippet[:500]}{'…' if len(h.snippet) > 500 else ''} »", markup=False, highlight=False)
    return 0


def _remove(args) -> int:
    watch = remove_watch(args.name)
    out.print(f"Veille « {watch.name} » supprimée.", highlight=False)
    return 0


def _run(args) -> int:
    found = run_watches()
    print_watch_summary({name: len(hits) for name, hits in found.items()})
    if not any(found.values()):
        out.print("Aucun nouveau document pertinent pour les veilles.")
    return 0


def configure(p) -> None:
    actions = p.add_subparsers(dest="action", required=True, metavar="action",
                               help=ACTION_HELP)
    a = actions.add_parser("add", help="enregistrer une veille (requête + filtres)")
    a.add_argument("query", nargs="+", metavar="requête", help="requête, par exemple « cybersécurité PME »")
    a.add_argument("--name", metavar="NOM", help="nom de la veille (par défaut : la requête)")
    a.add_argument("--existants", "--existing", dest="existing", action="store_true",
                   help="appliquer aussi la veille aux documents déjà présents dans le corpus")
    a.add_argument("--intervalle", dest="interval", metavar="INTERVALLE",
                   help="intervalle de passage par « veille run --due » (30min, 6h, 1j, 2sem, semaine, mois…)")
    a.add_argument("--seuil", dest="threshold", type=float, metavar="SEUIL",
                   help="pertinence minimale entre 0 et 1 (défaut : le seuil de refus, VEILLE_REFUSAL_THRESHOLD)")
    add_filter_args(a)
    ls = actions.add_parser("list", help="lister les veilles")
    ls.add_argument("--json", action="store_true", help="la liste en JSON")
    n = actions.add_parser("news", help="nouveautés de chaque veille, avec extraits cités")
    n.add_argument("name", nargs="?", metavar="nom", help="une seule veille (nom ou numéro)")
    n.add_argument("--all", action="store_true", help="aussi les documents déjà lus")
    n.add_argument("--keep", action="store_true", help="ne pas marquer comme lus")
    n.add_argument("--visite", dest="visit", action="store_true",
                   help="nouveautés depuis votre dernière visite (veilles, entités suivies, filières ; une par information)")
    n.add_argument("--as", dest="as_login", metavar="IDENTIFIANT", help="pour ce compte (son audience, ses filières)")
    n.add_argument("--json", action="store_true", help="les nouveautés en JSON")
    r = actions.add_parser("remove", help="supprimer une veille")
    r.add_argument("name", metavar="nom", help="nom ou numéro de la veille")
    actions.add_parser("run", help="passer les veilles sur les documents arrivés depuis leur dernier passage")
    p.set_defaults(func=cmd_watch)
