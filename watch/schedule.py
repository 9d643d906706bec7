"""The watch job on a schedule: ``run_due`` does what is due — ingest the watched folders, collect the sources
whose interval has passed, run the watches, build the bulletins that are due — under one lock, so two runs never
overlap (``veille run --due`` from cron or a systemd timer, or the scheduler inside ``veille serve``).

A job's success is recorded only once it is complete; ingestion and collection are crash-safe and bulletins are
written to a temporary file then renamed, so a run killed midway leaves nothing half-done: the next run finds
the job still due and does it again. Intervals come from the planning file (``$VEILLE_HOME/planning.yaml`` or
``--planning``), per source in the sources file (``intervalle``), or are set with ``veille run --regler``.
The clock is injectable (``clock=``) so the schedule logic is tested without waiting.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from accounts import restrict, user_for_cli
from assistant.service import Assistant
from ingestion.collect import Collector, load_sources
from ingestion.pipeline import Ingestor
from veille.config import Settings, get_settings
from veille.errors import VeilleError
from veille.filters import Filters
from veille.numbers import plural
from veille.store import get_store
from watch.bulletin import build_bulletin, parse_period
from watch.bulletin_render import write
from watch.watches import list_watches, run_watches

Clock = Callable[[], dt.datetime]
CALENDAR = {"semaine": "week", "mois": "month", "trimestre": "quarter", "semestre": "half", "an": "year",
            "année": "year"}
_UNITS = {"min": 60, "h": 3600, "j": 86400, "d": 86400, "sem": 7 * 86400}
DEFAULT_COLLECT = "1j"
DEFAULT_WATCHES = "1j"


class ScheduleError(VeilleError, ValueError):
    """A planning file or interval Veille cannot use (French message)."""


class AlreadyRunning(VeilleError):
    """Another run holds the lock."""
    exit_code = 3


@dataclass(frozen=True)
class Interval:
    text: str
    seconds: float | None = None  # a duration …
    calendar: str | None = None  # … or a calendar period: a new one started since the last run

    @classmethod
    def parse(cls, text) -> "Interval":
        value = str(text or "").strip().lower()
        if value in CALENDAR:
            return cls(value, calendar=CALENDAR[value])
        if m := re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(min|h|j|d|sem)", value):
            seconds = float(m.group(1).replace(",", ".")) * _UNITS[m.group(2)]
            if seconds > 0:
                return cls(value, seconds=seconds)
        raise ScheduleError(f"Intervalle illisible : « {text} » (exemples : 30min, 6h, 1j, 2sem, semaine, mois, "
                            "trimestre, semestre, an).")

    def due(self, last_run: float | None, now: dt.datetime) -> bool:
        if last_run is None:
            return True
        last = dt.datetime.fromtimestamp(last_run)
        if self.seconds is not None:
            return (now - last).total_seconds() >= self.seconds
        return _period_key(now, self.calendar) != _period_key(last, self.calendar)

    def next_due(self, last_run: float | None, now: dt.datetime) -> dt.datetime:
        if last_run is None:
            return now
        last = dt.datetime.fromtimestamp(last_run)
        if self.seconds is not None:
            return last + dt.timedelta(seconds=self.seconds)
        return _period_start(last, self.calendar, +1)

    def previous_period(self, now: dt.datetime) -> str:
        """The last complete period before ``now`` as ``veille bulletin --periode`` reads it."""
        if self.calendar is None:
            end = now.date() - dt.timedelta(days=1)
            start = end - dt.timedelta(seconds=self.seconds - 86400) if self.seconds >= 86400 else end
            return f"{start.isoformat()}..{end.isoformat()}"
        start = _period_start(now, self.calendar, -1).date()
        if self.calendar == "quarter":
            return f"{start.year}-T{(start.month - 1) // 3 + 1}"
        if self.calendar == "half":
            return f"{start.year}-S{1 if start.month <= 6 else 2}"
        if self.calendar == "month":
            return f"{start.year}-{start.month:02d}"
        if self.calendar == "year":
            return str(start.year)
        end = start + dt.timedelta(days=6)
        return f"{start.isoformat()}..{end.isoformat()}"


def _period_key(when: dt.datetime, calendar: str) -> tuple:
    if calendar == "week":
        return tuple(when.isocalendar()[:2])
    if calendar == "month":
        return when.year, when.month
    if calendar == "quarter":
        return when.year, (when.month - 1) // 3
    if calendar == "half":
        return when.year, (when.month - 1) // 6
    return (when.year,)


def _period_start(when: dt.datetime, calendar: str, shift: int) -> dt.datetime:
    """Start of the period ``shift`` periods after the one holding ``when``."""
    if calendar == "week":
        monday = dt.datetime.combine(when.date() - dt.timedelta(days=when.weekday()), dt.time.min)
        return monday + dt.timedelta(weeks=shift)
    months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[calendar]
    index = (when.year * 12 + when.month - 1) // months + shift
    return dt.datetime(index * months // 12, index * months % 12 + 1, 1)


@dataclass
class Job:
    name: str
    interval: Interval
    action: Callable[[dt.datetime], str]  # does the work, returns what it did (French)


@dataclass
class Plan:
    """What a planning file asks for, as jobs."""
    path: Path | None
    jobs: list[Job] = field(default_factory=list)


def watch_job(name: str) -> str:
    """The schedule's name for a watch's job (``veille run --regler``, ``veille watch add --intervalle``)."""
    return f"veille:{name}"


def set_interval(settings: Settings, job: str, text: str | None) -> Interval | None:
    """Store the interval of ``job`` (None: back to the planning file's); a bad interval stores nothing."""
    interval = Interval.parse(text) if text is not None else None
    get_store(settings).set_job_interval(job, interval.text if interval else None)
    return interval


def planning_path(settings: Settings) -> Path:
    return settings.home / "planning.yaml"


def load_plan(settings: Settings, path: Path | None = None, collector_factory=None) -> Plan:
    """The jobs of the planning file (default ``$VEILLE_HOME/planning.yaml``; only the watches without one)."""
    path = Path(path) if path else planning_path(settings)
    plan = Plan(path if path.exists() else None)
    if not path.exists() and path != planning_path(settings):
        raise ScheduleError(f"Fichier de planification introuvable : {path}")
    try:  # without a planning file the watches still run, at their own or the default interval
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"Fichier de planification illisible ({path}) : {exc}") from None
    if not isinstance(data, dict):
        raise ScheduleError(f"{path} : attendu des sections dossiers, sources, veilles, bulletins.")
    unknown = set(data) - {"dossiers", "sources", "intervalle_collecte", "veilles", "bulletins"}
    if unknown:
        raise ScheduleError(f"{path} : sections inconnues {', '.join(sorted(unknown))} (possibles : dossiers, "
                            "sources, intervalle_collecte, veilles, bulletins).")
    overrides = {job: row["interval"] for job, row in get_store(settings).schedule_rows().items() if row["interval"]}

    def interval(job: str, value) -> Interval:
        return Interval.parse(overrides.get(job, value))

    base = path.parent
    for entry in data.get("dossiers") or []:
        entry = {"chemin": entry} if isinstance(entry, str) else entry
        folder = (base / str(entry.get("chemin", ""))).expanduser()
        plan.jobs.append(Job(f"dossier:{folder}", interval(f"dossier:{folder}", entry.get("intervalle", "1h")),
                             lambda now, folder=folder: _ingest(settings, folder)))
    if data.get("sources"):
        sources_file = (base / str(data["sources"])).expanduser()
        raw = _raw_sources(sources_file)
        for source in load_sources(sources_file):
            every = raw.get(source.name, {}).get("intervalle") or data.get("intervalle_collecte") or DEFAULT_COLLECT
            job = f"collecte:{source.name}"
            plan.jobs.append(Job(job, interval(job, every),
                                 lambda now, source=source: _collect(settings, source, collector_factory)))
    default_watch = data.get("veilles") or DEFAULT_WATCHES
    for watch in list_watches(settings):
        job = watch_job(watch.name)
        plan.jobs.append(Job(job, interval(job, default_watch), lambda now, name=watch.name: _watch(settings, name)))
    for entry in data.get("bulletins") or []:
        plan.jobs.append(_bulletin_job(settings, entry, base, interval))
    return plan


def _raw_sources(path: Path) -> dict[str, dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}  # load_sources says what is wrong
    entries = data.get("sources") if isinstance(data, dict) else data
    return {str(e.get("name")): e for e in entries or [] if isinstance(e, dict)}


def _bulletin_job(settings: Settings, entry: dict, base: Path, interval) -> Job:
    if not isinstance(entry, dict) or not entry.get("nom") or not entry.get("rubriques") or not entry.get("sortie"):
        raise ScheduleError("Chaque bulletin planifié a un « nom », des « rubriques », une « sortie » (chemin avec "
                            "{periode}) et un « intervalle » (trimestre, mois…).")
    name = str(entry["nom"])
    every = interval(f"bulletin:{name}", entry.get("intervalle", "trimestre"))
    output = str(entry["sortie"])

    def build(now: dt.datetime) -> str:
        period = every.previous_period(now)
        filters = Filters(filieres=list(entry.get("filieres") or []))
        if entry.get("pour"):
            filters = restrict(filters, user_for_cli(settings, str(entry["pour"])))
        bulletin = build_bulletin(Assistant(settings), parse_period(period), list(entry["rubriques"]), filters,
                                  str(entry.get("introduction") or ""), name=name)
        target = (base / output.replace("{periode}", period)).expanduser()
        write(bulletin, target)
        return f"bulletin {period} écrit dans {target} ({bulletin.item_count} éléments)"

    return Job(f"bulletin:{name}", every, build)


def _ingest(settings: Settings, folder: Path) -> str:
    if not folder.is_dir():
        raise ScheduleError(f"dossier introuvable : {folder}")
    report = Ingestor(settings, progress=False).ingest_paths([folder])
    return (f"{plural(report.count('added'), 'ajouté')}, {plural(report.count('updated'), 'modifié')}, "
            f"{plural(report.count('unchanged'), 'inchangé')}")


def _collect(settings: Settings, source, collector_factory=None) -> str:
    collector = (collector_factory or Collector)(settings, progress=False)
    counts = collector.run([source]).counts()
    if counts["failed"] and not (counts["new"] or counts["changed"] or counts["unchanged"]):
        raise ScheduleError(f"toutes les pages en échec ({counts['failed']})")
    return (f"{plural(counts['new'], 'nouvelle')}, {plural(counts['changed'], 'modifiée')}, "
            f"{plural(counts['unchanged'], 'inchangée')}")


def _watch(settings: Settings, name: str) -> str:
    found = run_watches(settings, names={name}).get(name, [])
    return plural(len(found), "document trouvé", "documents trouvés")


@dataclass
class JobOutcome:
    job: str
    status: str  # fait | échec | pas dû
    detail: str = ""
    next_due: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@contextmanager
def run_lock(settings: Settings):
    """The one lock of the schedule (``$VEILLE_HOME/run.lock``); AlreadyRunning when another run holds it. The
    lock is the kernel's (flock): a run that dies, even by kill -9, releases it."""
    settings.home.mkdir(parents=True, exist_ok=True)
    handle = open(settings.home / "run.lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            raise AlreadyRunning(f"Une exécution planifiée est déjà en cours{f' (processus {holder})' if holder else ''}"
                                 " : rien n'est lancé.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def run_due(settings: Settings | None = None, plan: Plan | None = None, clock: Clock = dt.datetime.now,
            only_due: bool = True) -> list[JobOutcome]:
    """Run the jobs that are due (all of them when not ``only_due``), in order: folders, collection, watches,
    bulletins. A failing job is recorded and the others still run."""
    settings = settings or get_settings()
    with run_lock(settings):
        plan = plan or load_plan(settings)
        store = get_store(settings)
        rows = store.schedule_rows()
        outcomes = []
        for job in plan.jobs:
            now = clock()
            last = rows[job.name]["last_run"] if job.name in rows else None
            if only_due and not job.interval.due(last, now):
                outcomes.append(JobOutcome(job.name, "pas dû", next_due=_when(job.interval.next_due(last, now))))
                continue
            try:
                detail, ok = job.action(now), True
            except VeilleError as exc:
                detail, ok = str(exc), False
            except Exception as exc:  # noqa: BLE001 - one broken job must not stop the others
                detail, ok = f"erreur inattendue : {type(exc).__name__}: {exc}", False
            store.record_job(job.name, now.timestamp(), ok, detail)
            next_due = job.interval.next_due(now.timestamp() if ok else last, now)
            outcomes.append(JobOutcome(job.name, "fait" if ok else "échec", detail, _when(next_due)))
        return outcomes


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M")


def background_scheduler(settings: Settings, minutes: float, say=print):
    """APScheduler inside ``veille serve``: ``run_due`` every ``minutes``, in a worker thread (off the request
    path), never two at once (the lock, and APScheduler's max_instances=1). Returns the started scheduler."""
    from apscheduler.schedulers.background import BackgroundScheduler

    def tick() -> None:
        try:
            done = [o for o in run_due(settings) if o.status != "pas dû"]
        except AlreadyRunning as exc:
            say(str(exc))
            return
        except VeilleError as exc:
            say(f"Planification : {exc}")
            return
        for o in done:
            say(f"Planification : {o.job} — {o.status} ({o.detail})")

    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(tick, "interval", minutes=minutes, max_instances=1, coalesce=True,
                      next_run_time=dt.datetime.now() + dt.timedelta(seconds=30))
    scheduler.start()
    return scheduler
