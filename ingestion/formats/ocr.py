"""OCR of scans (scanned PDF pages, .png/.jpg/.tiff) with Tesseract in French (pytesseract).

Tesseract is a Debian package (``tesseract-ocr`` + ``tesseract-ocr-fra``, installed by scripts/install.sh);
without it a scan is skipped with the reason. A document may cost at most ``ocr_max_pages`` pages and
``ocr_max_seconds`` seconds, and a page at most ``ocr_max_page_pixels`` pixels (settings, ``VEILLE_OCR_*``)."""
from __future__ import annotations

import io
import re
import shutil
import time
from functools import lru_cache
from typing import Callable, Iterable

from ingestion.formats.base import Extracted, join_pages, reason_of
from ingestion.limits import limits as read_limits
from ingestion.read import RawFile, SkipFile
from veille.numbers import decimal

RENDER_DPI = 300  # Tesseract reads best around 300 dpi
MIN_DPI = 100  # below, Tesseract reads little: a page that would need less is refused


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
    budget = read_limits()
    return budget.ocr_pages, budget.ocr_seconds


def check_pixels(width: float, height: float, what: str) -> None:
    """SkipFile when a page or image of ``width`` × ``height`` pixels is over the OCR pixel budget."""
    budget = read_limits().page_pixels
    if width * height > budget:
        raise SkipFile(f"{what} de {decimal(width, 0)} × {decimal(height, 0)} pixels : plus de "
                       f"{decimal(budget / 1e6, 0)} millions de pixels, reconnaissance de texte (OCR) refusée "
                       f"(réglage VEILLE_OCR_MAX_PAGE_PIXELS)")


def render_scale(width_pt: float, height_pt: float) -> float:
    """The scale a PDF page is rendered at for OCR: 300 dpi, less for a big page so that it fits the pixel
    budget, and SkipFile when even 100 dpi would not (« page de 200 × 200 pouces : rendu refusé »)."""
    scale = RENDER_DPI / 72
    budget = read_limits().page_pixels
    if width_pt * height_pt * scale * scale <= budget:
        return scale
    fitted = (budget / max(width_pt * height_pt, 1.0)) ** 0.5
    if fitted * 72 < MIN_DPI:
        raise SkipFile(f"page de {decimal(width_pt / 72, 0)} × {decimal(height_pt / 72, 0)} pouces : rendu pour la "
                       f"reconnaissance de texte (OCR) refusé (plus de {decimal(budget / 1e6, 0)} millions de "
                       f"pixels même à {MIN_DPI} dpi, réglage VEILLE_OCR_MAX_PAGE_PIXELS)")
    return fitted


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
        image = Image.open(io.BytesIO(raw.data))  # reads the header only: sized before anything is decoded
        check_pixels(*image.size, "image")
        count = getattr(image, "n_frames", 1)
        texts = ocr_pages([lambda i=i: frame(image, i) for i in range(count)], count)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, EOFError) as exc:
        raise SkipFile(f"image illisible ({reason_of(exc)})") from None
    if count == 1:
        return Extracted(text=texts[0], meta={"ocr": True})
    text, starts = join_pages(texts)
    return Extracted(text=text, meta={"ocr": True}, pages=starts)
