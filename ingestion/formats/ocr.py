"""OCR of scans (scanned PDF pages, .png/.jpg/.tiff) with Tesseract in French (pytesseract).

Tesseract is a Debian package (``tesseract-ocr`` + ``tesseract-ocr-fra``, installed by scripts/install.sh);
without it a scan is skipped with the reason. A document may cost at most ``ocr_max_pages`` pages and
``ocr_max_seconds`` seconds (settings, ``VEILLE_OCR_MAX_PAGES`` / ``VEILLE_OCR_MAX_SECONDS``)."""
from __future__ import annotations

import io
import re
import shutil
import time
from functools import lru_cache
from typing import Callable, Iterable

from ingestion.formats.base import Extracted, join_pages
from ingestion.read import RawFile, SkipFile
from veille.config import get_settings

RENDER_DPI = 300  # Tesseract reads best around 300 dpi


@lru_cache(maxsize=1)
def language() -> str:
    """'fra' when the French data is installed (else 'eng'); SkipFile when Tesseract is missing."""
    if not shutil.which("tesseract"):
        raise SkipFile("document scanné : la reconnaissance de texte (OCR) demande Tesseract, absent de cette "
                       "machine (paquets Debian tesseract-ocr et tesseract-ocr-fra, installés par scripts/install.sh)")
    import pytesseract

    try:
        langs = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractError, OSError):
        langs = set()
    return "fra" if "fra" in langs else "eng"


def limits() -> tuple[int, float]:
    settings = get_settings()
    return settings.ocr_max_pages, settings.ocr_max_seconds


def check_pages(count: int) -> None:
    max_pages, _ = limits()
    if count > max_pages:
        raise SkipFile(f"document scanné de {count} pages : la reconnaissance de texte (OCR) est limitée à "
                       f"{max_pages} pages par document (réglage VEILLE_OCR_MAX_PAGES)")


def ocr_pages(images: Iterable[Callable[[], object]], count: int) -> list[str]:
    """Text of each page image (given as callables, rendered one at a time to bound memory)."""
    import pytesseract

    check_pages(count)
    lang = language()
    _, max_seconds = limits()
    deadline = time.monotonic() + max_seconds
    texts = []
    for number, render in enumerate(images, 1):
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise RuntimeError("timeout")
            image = render()
            texts.append(mend(pytesseract.image_to_string(image.convert("L"), lang=lang, timeout=left)))
        except RuntimeError as exc:
            if "timeout" not in str(exc).lower():
                raise
            raise SkipFile(f"reconnaissance de texte (OCR) interrompue après {max_seconds:.0f} s, à la page "
                           f"{number} sur {count} (réglage VEILLE_OCR_MAX_SECONDS)") from None
        except pytesseract.TesseractError as exc:
            raise SkipFile(f"reconnaissance de texte (OCR) en échec à la page {number} ({exc.message or exc})") \
                from None
    return texts


def mend(text: str) -> str:
    """Words Tesseract reads hyphenated at a line end made whole again (« dévelop-\\npement »)."""
    return re.sub(r"([a-zà-öø-ÿ])-\n(?=[a-zà-öø-ÿ])", r"\1", text)


def extract_image(raw: RawFile) -> Extracted:
    """A photo or scan (.png, .jpg, .tiff; every frame of a multi-page TIFF is a page)."""
    from PIL import Image, UnidentifiedImageError

    def frame(image, index: int):
        image.seek(index)
        return image.copy()

    try:
        image = Image.open(io.BytesIO(raw.data))
        count = getattr(image, "n_frames", 1)
        texts = ocr_pages([lambda i=i: frame(image, i) for i in range(count)], count)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, EOFError) as exc:
        raise SkipFile(f"image illisible ({type(exc).__name__})") from None
    if count == 1:
        return Extracted(text=texts[0], meta={"ocr": True})
    text, starts = join_pages(texts)
    return Extracted(text=text, meta={"ocr": True}, pages=starts)
