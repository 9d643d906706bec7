"""`veille run --due`: do what is due (folders, collection, watches, bulletins), never two runs at once."""
from __future__ import annotations

import datetime as dt
import json

from rich.table import Table

from cli.console import err, out
from veille.config import get_settings
from veille.store import get_store
from watch.schedule import ScheduleError, load_plan, planning_path, run_due, set_interval

STATUS_STYLE = {"fait": "green", "échec": "red", "pas dû": "dim"}


def _clock(value: str | None):
    if not value:
        return dt.datetime.now
    try:
        fixed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ScheduleError(f"Heure illisible : « {value} » (forme attendue : 2026-10-01T08:00).") from None
    return lambda: fixed


def cmd_run(args) -> int:
    settings = get_settings()
    if args.set:
        job, value = args.set
        set_interval(settings, job, None if value == "défaut" else value)
        out.print(f"Intervalle de « {job} » : {value}.", highlight=False)
        return 0
    if args.state:
        return _state(settings, args.planning, args.json)
    if not args.due and not args.all:
        err.print("Précisez --due (ce qui est dû), --tout (tout, maintenant) ou --etat.")
        return 2
    plan = load_plan(settings, args.planning)
    if plan.path is None and not plan.jobs:
        err.print(f"Rien de planifié : pas de fichier {planning_path(settings)} ni de veille (voir README, « Sur un "
                  "calendrier »).")
        return 0
    outcomes = run_due(settings, plan, clock=_clock(args.now), only_due=not args.all)
    if args.json:
        print(json.dumps([o.as_dict() for o in outcomes], ensure_ascii=False))
    else:
        table = Table(title="Exécution planifiée")
        for col in ("tâche", "état", "détail", "prochaine fois"):
            table.add_column(col, overflow="fold")
        for o in outcomes:
            table.add_row(o.job, f"[{STATUS_STYLE[o.status]}]{o.status}[/]", o.detail, o.next_due)
        out.print(table)
    return 1 if any(o.status == "échec" for o in outcomes) else 0


def _state(settings, planning, as_json: bool) -> int:
    plan = load_plan(settings, planning)
    rows = get_store(settings).schedule_rows()
    now = dt.datetime.now()
    state = []
    for job in plan.jobs:
        row = rows.get(job.name)
        last = row["last_run"] if row else None
        state.append({"tâche": job.name, "intervalle": job.interval.text,
                      "dernier_succès": dt.datetime.fromtimestamp(last).strftime("%d/%m/%Y %H:%M") if last else "jamais",
                      "dernier_état": (row["status"] or "") if row else "", "détail": (row["detail"] or "") if row else "",
                      "dû": job.interval.due(last, now)})
    if as_json:
        print(json.dumps(state, ensure_ascii=False))
        return 0
    table = Table(title="Planification")
    for col in ("tâche", "intervalle", "dernier succès", "dernier état", "dû maintenant"):
        table.add_column(col, overflow="fold")
    for s in state:
        table.add_row(s["tâche"], s["intervalle"], s["dernier_succès"], s["dernier_état"], "oui" if s["dû"] else "non")
    out.print(table)
    return 0


def configure(p) -> None:
    p.add_argument("--due", action="store_true", help="faire ce qui est dû (pour cron ou un minuteur systemd)")
    p.add_argument("--tout", dest="all", action="store_true", help="tout faire maintenant, dû ou non")
    p.add_argument("--etat", dest="state", action="store_true", help="afficher les tâches, leur dernier passage")
    p.add_argument("--planning", metavar="FICHIER", help="fichier de planification (défaut : $VEILLE_HOME/planning.yaml)")
    p.add_argument("--regler", dest="set", nargs=2, metavar=("TÂCHE", "INTERVALLE"),
                   help="régler l'intervalle d'une tâche (ex. « veille:cybersécurité PME » 6h ; « défaut » pour revenir "
                        "au fichier)")
    p.add_argument("--maintenant", dest="now", metavar="AAAA-MM-JJTHH:MM",
                   help="l'heure à prendre pour « maintenant » (essais, rattrapage)")
    p.add_argument("--json", action="store_true", help="résultat en JSON")
    p.set_defaults(func=cmd_run)
