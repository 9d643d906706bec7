"""One module per ``veille`` sub-command; each exposes ``configure(parser)`` (its options, and ``func``).

The registry below lists them with their one-line help, so ``veille --help`` loads none of them and
``veille ask`` loads only ``cli.commands.ask`` and what it needs (the web UI's Gradio, the evaluation's
plots and the models stay unloaded). Adding a command = a module here and a line in ``COMMANDS``."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str
    help: str


COMMANDS: dict[str, Command] = {
    "ask": Command("cli.commands.ask", "poser une question (ou une par ligne sur l'entrée standard)"),
    "chat": Command("cli.commands.chat", "converser avec Veille dans le terminal (questions de suite comprises)"),
    "brief": Command("cli.commands.brief",
                     "note de synthèse en Markdown sur un sujet (vue d'ensemble, thèmes, sources)"),
    "bulletin": Command("cli.commands.bulletin",
                        "bulletin de veille d'une période par rubriques (HTML pour courriel, DOCX, Markdown)"),
    "ingest": Command("cli.commands.ingest", "ingérer des fichiers ou dossiers dans le corpus"),
    "collect": Command("cli.commands.collect", "collecter des pages web (adresses ou fichier de sources)"),
    "watch": Command("cli.commands.watch", "veilles enregistrées : nouveautés par requête"),
    "entites": Command("cli.commands.entites", "entités les plus citées (organisations, personnes, lieux) et "
                       "tendance ; avec un NOM, sa chronologie (mentions datées, phrases citées, co-citées)"),
    "run": Command("cli.commands.run", "faire ce qui est dû : dossiers, collecte, veilles, bulletins (cron, systemd)"),
    "status": Command("cli.commands.status", "ce que contient le corpus"),
    "date": Command("cli.commands.date", "la date d'un document et d'où elle vient ; la corriger (veille date DOC "
                    "2025-11-03) ; --sans-date : les documents non datés"),
    "serve": Command("cli.commands.serve", "lancer l'interface web (chat, sources, notes, corpus)"),
    "users": Command("cli.commands.users", "comptes : ajouter, lister, désactiver, changer le mot de passe"),
    "audit": Command("cli.commands.audit", "journal d'audit (questions, documents renvoyés, connexions)"),
    "feedback": Command("cli.commands.feedback", "avis 👍/👎 recueillis par l'interface web"),
    "eval": Command("cli.commands.eval", "évaluer la recherche et les réponses (jeu du corpus, PIAF, SPF, CNIL)"),
    "build-model": Command("cli.commands.build_model", "construire le modèle d'embedding hors ligne"),
}
