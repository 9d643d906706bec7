"""The schedule: intervals and calendar periods with an injected clock, one lock for every run (released even by
kill -9), failed jobs staying due, and real runs of `veille run --due` over a planning file (a watched folder, the
watches and a quarterly bulletin)."""
from __future__ import annotations

import datetime as dt
import html
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, veille


def T(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_intervals_and_calendar_periods():
    from watch.schedule import Interval, ScheduleError

    day = Interval.parse("1j")
    last = T("2026-10-01T08:00").timestamp()
    assert not day.due(last, T("2026-10-02T07:59")) and day.due(last, T("2026-10-02T08:00"))
    assert Interval.parse("6h").seconds == 6 * 3600 and Interval.parse("30min").seconds == 1800
    quarter = Interval.parse("trimestre")
    end_t3 = T("2026-09-30T23:00").timestamp()
    assert not quarter.due(end_t3, T("2026-09-30T23:59")) and quarter.due(end_t3, T("2026-10-01T00:01"))
    assert quarter.previous_period(T("2026-10-01T06:00")) == "2026-T3"
    assert quarter.previous_period(T("2027-02-10T06:00")) == "2026-T4"
    assert quarter.next_due(end_t3, T("2026-09-30T23:30")) == T("2026-10-01T00:00")
    assert Interval.parse("mois").previous_period(T("2026-01-15T00:00")) == "2025-12"
    assert Interval.parse("semestre").previous_period(T("2026-07-02T00:00")) == "2026-S1"
    assert Interval.parse("semaine").previous_period(T("2026-10-07T00:00")) == "2026-09-28..2026-10-04"
    assert day.due(None, T("2026-01-01T00:00"))  # never run: due
    with pytest.raises(ScheduleError, match="Intervalle illisible"):
        Interval.parse("souvent")


def test_due_jobs_run_once_and_a_failure_stays_due(settings):
    from veille.errors import VeilleError
    from watch.schedule import Interval, Job, Plan, run_due

    done: list[tuple[str, dt.datetime]] = []

    def ok(name):
        return lambda now: done.append((name, now)) or f"{name} fait"

    def broken(now):
        raise VeilleError("source injoignable")

    plan = Plan(None, [Job("a", Interval.parse("1j"), ok("a")), Job("b", Interval.parse("1j"), broken),
                       Job("c", Interval.parse("mois"), ok("c"))])
    first = run_due(settings, plan, clock=lambda: T("2026-10-01T08:00"))
    assert [(o.job, o.status) for o in first] == [("a", "fait"), ("b", "échec"), ("c", "fait")]
    assert first[1].detail == "source injoignable"  # the others ran anyway
    second = run_due(settings, plan, clock=lambda: T("2026-10-01T20:00"))
    assert [(o.job, o.status) for o in second] == [("a", "pas dû"), ("b", "échec"), ("c", "pas dû")]
    third = run_due(settings, plan, clock=lambda: T("2026-11-01T08:00"))
    assert [(o.job, o.status) for o in third] == [("a", "fait"), ("b", "échec"), ("c", "fait")]
    assert [n for n, _ in done] == ["a", "c", "a", "c"]


def _planning(root, corpus):
    out = root / "bulletins"
    (root / "planning.yaml").write_text(
        f"dossiers:\n  - chemin: {corpus}\n    intervalle: 1j\nveilles: 1j\n"
        "bulletins:\n  - nom: cyber-trimestriel\n    intervalle: trimestre\n"
        "    rubriques: ['Intelligence économique: intelligence économique']\n"
        f"    sortie: {out}/ie-{{periode}}.html\n", encoding="utf-8")
    return root / "planning.yaml", out


def test_a_real_run_does_what_is_due_then_nothing(tmp_path, env, corpus_copy):
    planning, out = _planning(tmp_path, corpus_copy)
    res = veille("watch", "add", "comité stratégique", "--name", "comite", env=env)
    assert res.returncode == 0, res.stderr
    res = veille("run", "--due", "--planning", str(planning), "--maintenant", "2026-10-01T08:00", "--json", env=env)
    assert res.returncode == 0, res.stderr
    outcomes = {o["job"]: o for o in json.loads(res.stdout)}
    assert outcomes[f"dossier:{corpus_copy}"]["status"] == "fait"
    assert outcomes[f"dossier:{corpus_copy}"]["detail"].startswith("5 ajoutés")
    assert outcomes["veille:comite"]["status"] == "fait"
    assert outcomes["bulletin:cyber-trimestriel"]["status"] == "fait"
    page = html.unescape((out / "ie-2026-T3.html").read_text(encoding="utf-8"))  # the quarter that just closed
    assert "3e trimestre 2026" in page and "Aucun document consultable n'est paru" in page
    assert not list(out.glob(".*partiel"))

    res = veille("run", "--due", "--planning", str(planning), "--maintenant", "2026-10-01T09:00", "--json", env=env)
    assert {o["status"] for o in json.loads(res.stdout)} == {"pas dû"}
    res = veille("run", "--due", "--planning", str(planning), "--maintenant", "2026-10-02T09:00", "--json", env=env)
    again = {o["job"]: o["status"] for o in json.loads(res.stdout)}
    assert again[f"dossier:{corpus_copy}"] == "fait" and again["bulletin:cyber-trimestriel"] == "pas dû"
    res = veille("run", "--etat", "--planning", str(planning), "--json", env=env)
    state = {s["tâche"]: s for s in json.loads(res.stdout)}
    assert state["bulletin:cyber-trimestriel"]["dernier_état"] == "ok"
    # An interval set with the CLI overrides the file's.
    res = veille("run", "--regler", "bulletin:cyber-trimestriel", "mois", env=env)
    assert res.returncode == 0, res.stderr
    res = veille("run", "--etat", "--planning", str(planning), "--json", env=env)
    assert {s["tâche"]: s for s in json.loads(res.stdout)}["bulletin:cyber-trimestriel"]["intervalle"] == "mois"


def test_two_runs_never_overlap_and_a_killed_run_leaves_nothing_half_done(tmp_path, env, corpus_copy):
    from veille.config import Settings
    from veille.store import get_store
    from watch.schedule import run_lock

    home = Settings(home=tmp_path / "home")
    planning, _ = _planning(tmp_path, corpus_copy)
    with run_lock(home):  # another run holds the lock: nothing is started
        res = veille("run", "--due", "--planning", str(planning), env=env, timeout=120)
    assert res.returncode == 3 and "déjà en cours" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "bulletins").exists()

    # kill -9 in the middle of the run: the kernel releases the lock, the next run finishes the work.
    proc = subprocess.Popen([sys.executable, "-m", "cli", "run", "--due", "--planning", str(planning),
                             "--maintenant", "2026-10-01T08:00"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    lock = home.home / "run.lock"
    deadline = time.time() + 120
    while time.time() < deadline and not (lock.exists() and lock.read_text().strip() == str(proc.pid)):
        time.sleep(0.2)
    time.sleep(2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    res = veille("run", "--due", "--planning", str(planning), "--maintenant", "2026-10-01T08:00", "--json", env=env)
    assert res.returncode == 0, res.stderr
    store = get_store(home)
    assert store.count_documents() == 5
    assert not store.db.execute("SELECT 1 FROM documents WHERE state='pending'").fetchone()
    assert store.schedule_rows()[f"dossier:{corpus_copy}"]["status"] == "ok"
    assert (tmp_path / "bulletins" / "ie-2026-T3.html").exists()
    assert not list((tmp_path / "bulletins").glob(".*partiel"))


def test_serve_runs_the_schedule_in_the_background(settings, tmp_path):
    """APScheduler inside the server process: its tick is run_due over $VEILLE_HOME/planning.yaml."""
    from veille.store import get_store
    from watch.schedule import background_scheduler

    folder = tmp_path / "depot"
    folder.mkdir()
    (folder / "note.md").write_text("# Note\n\nLa CCI Normandie ouvre un guichet cybersécurité pour les PME du "
                                    "Calvados et de la Manche.\n", encoding="utf-8")
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "planning.yaml").write_text(f"dossiers:\n  - chemin: {folder}\n    intervalle: 1h\n",
                                                 encoding="utf-8")
    said: list[str] = []
    scheduler = background_scheduler(settings, minutes=60, say=said.append)
    try:
        job = scheduler.get_jobs()[0]
        assert job.max_instances == 1 and job.coalesce
        job.func()  # what the scheduler's worker thread runs
    finally:
        scheduler.shutdown(wait=False)
    assert get_store(settings).schedule_rows()[f"dossier:{folder}"]["status"] == "ok"
    assert any("fait" in line and "1 ajouté" in line for line in said), said


def test_watch_add_sets_the_interval_run_due_follows(env):
    # A bad interval is refused in French before anything is stored.
    res = veille("watch", "add", "rançongiciel", "--name", "rapide", "--intervalle", "souvent", env=env)
    assert res.returncode == 2 and "Intervalle illisible : « souvent »" in res.stderr
    res = veille("watch", "list", "--json", env=env)
    assert json.loads(res.stdout) == []

    res = veille("watch", "add", "rançongiciel", "--name", "rapide", "--intervalle", "6h", env=env)
    assert res.returncode == 0, res.stderr
    assert "Intervalle : 6h" in res.stdout
    res = veille("run", "--etat", "--json", env=env)
    assert {s["tâche"]: s for s in json.loads(res.stdout)}["veille:rapide"]["intervalle"] == "6h"

    def due_at(when: str) -> str:
        res = veille("run", "--due", "--maintenant", when, "--json", env=env)
        assert res.returncode == 0, res.stderr
        return {o["job"]: o["status"] for o in json.loads(res.stdout)}["veille:rapide"]

    # 6 h, not the default day: not due 3 h later, due again 7 h later.
    assert due_at("2026-10-01T08:00") == "fait"
    assert due_at("2026-10-01T11:00") == "pas dû"
    assert due_at("2026-10-01T15:00") == "fait"
