#!/usr/bin/env bash
# Installe Veille dans .venv, construit le modèle d'embedding hors ligne, ingère corpus/ et répond à une
# première question. Relançable : ce qui est déjà fait est sauté.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source .venv/bin/activate
echo "==> Construction du modèle d'embedding (multilingual-e5-small, hors ligne)"
veille build-model
echo "==> Ingestion du corpus de démonstration"
veille ingest corpus/
veille status
echo "==> Première question"
veille ask "Quels sont les pôles de compétitivité normands ?"
if [ "${VEILLE_NO_SERVE:-0}" != "1" ] && [ -z "${CI:-}" ] && veille serve --help >/dev/null 2>&1; then
  echo "==> Lancement de l'interface web (Ctrl-C pour arrêter)"
  exec veille serve
fi
