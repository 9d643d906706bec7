"""The configuration table of docs/configuration.md, generated from ``veille.config.Settings``.

    .venv/bin/python scripts/config_doc.py            # print the table (and the other variables Veille reads)
    .venv/bin/python scripts/config_doc.py --write    # rewrite it between the markers of docs/configuration.md
    .venv/bin/python scripts/config_doc.py --check    # exit 1 (and say why) when the page is not up to date

One row per field of the dataclass, in its order: the environment variable (``VEILLE_`` + the field name upper-cased,
exactly as ``veille.config.load_settings`` reads it), the TOML key (the field name), the French description below and
the default read from the dataclass. The descriptions are French because the page is; a field added to ``Settings``
without one gets its code comment (the comment on its line, else the comment block just above it), marked as still to
be described, and ``tests/test_config_doc.py`` fails until it has one.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import io
import re
import sys
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from veille import config  # noqa: E402

DOC = REPO / "docs" / "configuration.md"
START = "<!-- config:start (généré par scripts/config_doc.py : ne pas modifier à la main) -->"
END = "<!-- config:end -->"
PREFIX = "VEILLE_"

# Variables that are read by Veille but are not fields of Settings: they may be named in the pages.
OTHER_VARIABLES = {
    "VEILLE_CONFIG": "fichier TOML de configuration (sinon `$VEILLE_HOME/veille.toml`)",
    "VEILLE_NO_SERVE": "`1` : `scripts/setup.sh` ne lance pas `veille serve` à la fin",
    "VEILLE_TEST_MODELS": "dossier des modèles construits partagé par les tests et les bancs",
}

# French description of each field. Taken from the README's configuration table where it had one.
DESCRIPTIONS = {
    "home": "dossier de données (stockage, modèles construits, journaux) ; celui par défaut est ignoré par git",
    "chroma_url": "serveur Chroma (`chroma run`) au lieu du Chroma embarqué",
    "collection": "préfixe du nom de la collection Chroma ; une collection par modèle d'embedding "
                  "(`<collection>_<modèle>`, suffixe de quantification compris) : les vecteurs de deux modèles "
                  "ne se mélangent jamais",
    "embedder": "`e5-small`, `use-m3`, `minilm` ou le dossier local d'un modèle sentence-transformers qui regroupe "
                "ses jetons par moyenne (comme e5 et MiniLM)",
    "models_path": "où vivent les modèles construits (par défaut `$VEILLE_HOME/models`) ; partagé par les tests",
    "embed_batch_size": "textes au plus par passe du modèle d'embedding",
    "embed_batch_tokens": "jetons (remplissage compris) par passe du modèle d'embedding",
    "embed_quantize": "`int8-mixed` : int8 partiel par ONNX Runtime (attentions et entrées des FFN ; ingestion "
                      "≈ 1,3× plus rapide, nDCG@10 hybride −0,002 à −0,007, voir [Bancs de mesure](benchmarks.md)) ; "
                      "`none` : le modèle en fp32",
    "embed_cache": "`off` : vectoriser chaque passage ; par défaut, un passage dont le texte exact (même modèle) est "
                   "déjà stocké reprend son vecteur (un document modifié ne revectorise que ses passages changés)",
    "embed_backend": "qui fait tourner e5 et MiniLM, mêmes vecteurs dans tous les cas : `onnx` (ONNX Runtime sur un "
                     "export fait une fois par `veille build-model`, sans importer torch : chargement 1 s au lieu de "
                     "11 s ; textes découpés par sentencepiece, voir « Le tokenizer » dans [Bancs de "
                     "mesure](benchmarks.md)) ou `transformers` (torch, sans export : le recours quand l'export "
                     "échoue, comme le dit son message). L'export est refait quand le dossier du modèle change ; à "
                     "défaut de `veille build-model`, la première utilisation le fait (≈ 1 min)",
    "threads": "fils de calcul du modèle d'embedding ; `0` : laisser le moteur (torch, ONNX Runtime) décider",
    "chunk_tokens": "taille visée d'un passage (mots, approximatifs)",
    "chunk_overlap": "phrases de recouvrement entre deux passages voisins",
    "max_file_bytes": "taille maximale d'un fichier ingéré",
    "ingest_batch_chunks": "passages vectorisés et écrits ensemble (mémoire bornée, validations fréquentes)",
    "ocr_max_pages": "pages de la reconnaissance de texte (OCR) d'un document ; un scan plus long est ignoré, avec "
                     "sa raison",
    "ocr_max_seconds": "temps de la reconnaissance de texte d'un document (compris dans "
                       "`VEILLE_EXTRACT_MAX_SECONDS`)",
    "ocr_max_page_pixels": "pixels par page de la reconnaissance de texte (une page géante est rendue à moins de "
                           "300 dpi, ou refusée sous 100 dpi)",
    "archive_member_max_bytes": "un membre décompressé d'un DOCX, PPTX, XLSX, ODT, ODP, ODS ou EPUB",
    "archive_max_bytes": "tous les membres décompressés d'un tel fichier",
    "archive_max_members": "nombre de membres d'un tel fichier",
    "archive_max_ratio": "taux de compression d'un membre de plus de 10 Mo",
    "document_max_chars": "caractères lus d'un document ; au-delà il est coupé, et le rapport le dit",
    "document_max_passages": "passages indexés d'un document ; au-delà il est coupé, et le rapport le dit",
    "mail_max_attachments": "pièces jointes lues d'un message ; le reste est signalé",
    "mail_max_parts": "parties MIME lues d'un message ; le reste est signalé",
    "mail_max_depth": "niveaux d'imbrication MIME lus d'un message ; le reste est signalé",
    "extract_max_seconds": "temps que la lecture d'un fichier peut prendre dans le processus de lecture ; au-delà, "
                           "il est arrêté, le fichier refusé et retenu tant qu'il ne change pas",
    "extract_max_memory": "mémoire (espace d'adressage, Tesseract compris) que la lecture d'un fichier peut prendre "
                          "dans le processus de lecture ; au-delà, il est arrêté, le fichier refusé et retenu tant "
                          "qu'il ne change pas",
    "entities": "pipeline spaCy des entités à l'ingestion ; `none` coupe l'étape",
    "near_duplicates": "`off` : aucun regroupement de quasi-doublons (chaque document seul)",
    "top_k": "nombre de passages retenus",
    "fusion": "fusion des branches dense et lexicale : `wsum` (somme pondérée des scores normalisés min-max) ou "
              "`rrf`, choisie par `veille eval`",
    "fusion_dense_weight": "poids de la branche dense dans la fusion `wsum` (ajusté par `veille eval` sur PIAF, SPF, "
                           "CNIL : `eval/README.md`)",
    "candidates": "passages demandés à chacune des deux branches (dense, lexicale) avant la fusion",
    "refusal_threshold": "seuil de la probabilité « le corpus répond » sous lequel Veille refuse (en mode "
                         "`consensus`, appliqué à chacun des deux juges ; en mode `reader`, le lecteur décide seul à ce seuil) ; "
                         "vide : celui de chaque modèle "
                         "(`assistant/answerability/rules.json`, `assistant/answerability/model.json`, "
                         "`assistant/answering/reader.json`)",
    "answerability": "choix des phrases et décision de répondre : `consensus` (phrases des règles, réponse seulement "
                     "si les règles et les modèles appris répondraient tous deux), `rules` (règles + modèle "
                     "logistique), `learned` (modèles appris sur PIAF train), `judge` (juge de réponse, cross-encodeur "
                     "entraîné sur PIAF train), `judge-consensus` (le juge et le consensus d'accord) ou `reader` (le lecteur "
                     "entraîné sur PIAF train, en garde du consensus : réponse avec ses mots en gras, « pas de réponse précise » et ce qui "
                     "s'en approche)",
    "watch_threshold": "pertinence minimale d'un nouveau document pour une veille enregistrée",
    "ask_server": "`off` : `veille serve` n'ouvre pas `$VEILLE_HOME/ask.sock` et `veille ask` calcule toujours sa "
                  "réponse lui-même",
    "llm_base_url": "adresse d'un modèle de langage compatible OpenAI (facultatif ; se termine en général par `/v1`)",
    "llm_model": "nom du modèle de langage (facultatif)",
    "llm_api_key": "clé d'API du modèle de langage (facultatif)",
    "llm_context": "contexte du serveur en jetons quand il ne l'annonce pas (0 : celui qu'il annonce, sinon 8 192)",
    "llm_timeout": "délai d'attente d'un appel au modèle de langage, en secondes (une réponse diffusée reste ouverte "
                   "jusqu'à 20 fois ce délai au total)",
    "llm_retries": "nouvelles tentatives d'un appel au modèle de langage en échec",
    "collect_allow_hosts": "hôtes que la collecte peut joindre bien qu'ils pointent vers une adresse locale, privée "
                           "ou réservée : entrées `hôte` (tous ports) ou `hôte:port` (`[::1]:8000` en IPv6), séparées "
                           "par des virgules, comparées au nom écrit dans l'adresse ; une entrée mal formée est "
                           "signalée au chargement",
    "collect_delay": "secondes entre deux requêtes au même site (politesse ; le `Crawl-delay` de robots.txt aussi)",
    "collect_concurrency": "requêtes simultanées, tous sites confondus",
    "collect_per_host": "requêtes simultanées vers un même site",
    "collect_timeout": "délai d'attente d'une requête, en secondes",
    "collect_retries": "tentatives sur erreurs passagères (délais dépassés, 429, 5xx)",
    "collect_max_bytes": "taille maximale d'un corps de réponse, comptée après décompression ; au-delà, le "
                         "téléchargement est abandonné",
    "collect_max_redirects": "redirections suivies au plus, une à une",
    "progress": "`1` : barres de progression même hors d'un terminal (tube, journal) ; `auto` : dans un terminal "
                "seulement",
    "test_kill_at": "point d'arrêt des tests d'interruption (`<étape>[:<n>]`, `ingestion/killpoints.py`), jamais en "
                    "production",
}

TO_DESCRIBE = "(à décrire en français ; commentaire du code :"


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    env: str
    annotation: str
    default: object
    comment: str


def env_name(field_name: str) -> str:
    """The variable ``load_settings`` reads for this field (``"VEILLE_" + f.name.upper()``)."""
    return PREFIX + field_name.upper()


def _comments(source: str) -> dict[int, str]:
    """Comment text by line number (1-based) of a piece of Python source."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def settings_fields() -> list[Field]:
    """The fields of ``Settings`` in their order, with their default and the comment that goes with each."""
    source = inspect.getsource(config.Settings)
    lines = source.splitlines()
    comments = _comments(source)
    klass = ast.parse(source).body[0]
    defaults = {f.name: f.default for f in dataclasses.fields(config.Settings)}
    result = []
    for node in klass.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name = node.target.id
        comment = comments.get(node.lineno, "")
        if not comment:  # the comment block just above the field
            above, line = [], node.lineno - 1
            while line >= 1 and lines[line - 1].strip().startswith("#"):
                above.insert(0, comments.get(line, ""))
                line -= 1
            comment = " ".join(above)
        result.append(Field(name, env_name(name), ast.unparse(node.annotation), defaults[name], comment))
    if [f.name for f in result] != list(defaults):  # the source and the dataclass must agree
        raise RuntimeError("les champs lus dans la source de Settings ne sont pas ceux de la dataclass")
    return result


def _number(value: float | int) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _size(value: int) -> str:
    for unit, factor in (("Go", 1024 ** 3), ("Mo", 1024 ** 2), ("Ko", 1024)):
        if value >= factor and value % factor == 0:
            return f"{value // factor} {unit}"
    return f"{value} octets"


def render_default(field: Field) -> str:
    value = field.default
    if value is None or value == ():
        return "–"
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(config.REPO_ROOT)}/` dans le dépôt"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and field.name.endswith(("_bytes", "_memory")):
        return f"`{value}` ({_size(value)})"
    if isinstance(value, (int, float)):
        unit = " s" if field.name.endswith(("_seconds", "_timeout", "_delay")) else ""
        return f"`{_number(value)}`{unit}"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def describe(field: Field) -> str:
    if field.name in DESCRIPTIONS:
        return DESCRIPTIONS[field.name]
    return f"{TO_DESCRIBE} « {field.comment or 'aucun'} »)"


def render_table(fields: list[Field] | None = None) -> str:
    fields = settings_fields() if fields is None else fields
    rows = ["| variable | clé TOML | rôle | défaut |", "|---|---|---|---|"]
    for field in fields:
        rows.append(f"| `{field.env}` | `{field.name}` | {_cell(describe(field))} | {_cell(render_default(field))} |")
    return "\n".join(rows)


def render_block(fields: list[Field] | None = None) -> str:
    """What goes between the markers: the table of the settings, then the other variables Veille reads."""
    other = ["| variable | rôle |", "|---|---|"]
    other += [f"| `{name}` | {_cell(text)} |" for name, text in OTHER_VARIABLES.items()]
    return (render_table(fields) + "\n\nAutres variables d'environnement, qui ne sont pas des réglages de `Settings` "
            ":\n\n" + "\n".join(other))


def replace_table(doc: str, table: str) -> str:
    start, end = doc.find(START), doc.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{DOC.relative_to(REPO)} : marqueurs {START!r} … {END!r} introuvables")
    return doc[:start + len(START)] + "\n" + table + "\n" + doc[end:]


def committed_table(doc: str) -> str:
    start, end = doc.find(START), doc.find(END)
    if start < 0 or end < start:
        return ""
    return doc[start + len(START):end].strip("\n")


def problems(doc: str, pages: dict[str, str] | None = None) -> list[str]:
    """What is wrong with the page ``doc`` (and the other ``pages``, by name, for the variables they name)."""
    fields = settings_fields()
    known = {f.env for f in fields}
    found = []
    table = committed_table(doc)
    if not table:
        return [f"marqueurs {START!r} … {END!r} absents de la page"]
    listed = re.findall(r"^\| `(VEILLE_[A-Z0-9_]+)` \|", table, flags=re.M)
    for field in fields:
        if field.env not in listed:
            found.append(f"{field.env} ({field.name}) : aucune ligne dans le tableau")
        if field.name not in DESCRIPTIONS:
            found.append(f"{field.env} ({field.name}) : pas de description en français dans scripts/config_doc.py "
                         f"(commentaire du code : « {field.comment or 'aucun'} »)")
    for extra in sorted(set(DESCRIPTIONS) - {f.name for f in fields}):
        found.append(f"{extra} : décrit dans scripts/config_doc.py mais n'est plus un champ de Settings")
    names = known | set(OTHER_VARIABLES)
    for name, text in {"docs/configuration.md": doc, **(pages or {})}.items():
        for variable in sorted(set(re.findall(r"VEILLE_[A-Z0-9_]*[A-Z0-9](?:_?\*)?", text))):
            if variable.endswith("*"):  # a family, « VEILLE_ARCHIVE_* »: at least one setting must match it
                if not any(n.startswith(variable.rstrip("*")) for n in names):
                    found.append(f"{name} nomme {variable}, qui ne correspond à aucun réglage")
            elif variable not in names:
                found.append(f"{name} nomme {variable}, qui n'est pas un réglage de Settings")
    if table != render_block(fields):
        found.append("le tableau de docs/configuration.md n'est pas celui que génère scripts/config_doc.py "
                     "(lancer : .venv/bin/python scripts/config_doc.py --write)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="réécrire le tableau entre les marqueurs de la page")
    action.add_argument("--check", action="store_true", help="code 1 si la page n'est pas à jour")
    args = parser.parse_args(argv)
    if args.write:
        DOC.write_text(replace_table(DOC.read_text(encoding="utf-8"), render_block()), encoding="utf-8")
        print(f"{DOC.relative_to(REPO)} réécrit")
        return 0
    if args.check:
        found = problems(DOC.read_text(encoding="utf-8"))
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    print(render_block())
    return 0


if __name__ == "__main__":
    sys.exit(main())
