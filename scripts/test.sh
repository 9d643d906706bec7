#!/usr/bin/env bash
# Lance toute la suite de tests dans .venv (créé si besoin). Arguments supplémentaires passés à pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> Installation de Chromium (Debian) pour les tests de l'interface"
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "Chromium indisponible : les tests navigateur seront signalés."
fi
exec .venv/bin/python -m pytest "$@"
