"""E-mail: one message (.eml) or a mailbox (.mbox), with the standard ``email`` and ``mailbox`` modules.

Each message is a document (subject as title, sender as author, its date); each attachment is ingested
as its own document through the same extractors, linked to its message (``parent`` / ``attachments``).
A part that cannot be decoded is reported with its reason; the rest of the message still lands."""
from __future__ import annotations

import email
import email.policy
import mailbox
import mimetypes
import re
import tempfile
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path, PurePath

from ingestion.formats.base import Extracted, Part, blocks_text, bounded, metadata, reason_of
from ingestion.formats.htmlblocks import html_blocks
from ingestion.limits import limits
from ingestion.read import RawFile, SkipFile, decode_text
from veille.numbers import decimal


TOO_DEEP = "message refusé : parties MIME imbriquées trop profondément"

# How an attachment is read: ``ingestion.extract.extract``, installed by that module when it loads (it dispatches
# to this one, so importing it here would be a cycle).
def read_attachment(raw: RawFile) -> Extracted:  # replaced by ingestion.extract.extract when it loads
    raise RuntimeError("ingestion.extract not loaded")


def extract_eml(raw: RawFile) -> Extracted:
    message = email.message_from_bytes(raw.data, policy=email.policy.default)
    if not message.keys():
        raise SkipFile("message électronique illisible (aucun en-tête)")
    return message_document(message, raw)


def extract_mbox(raw: RawFile) -> Extracted:
    # mailbox wants a path: bytes from an attachment or a download go through a temporary file.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "boite.mbox"
        path.write_bytes(raw.data)
        box = mailbox.mbox(str(path), create=False)
        try:
            messages = [box.get_bytes(key) for key in box.keys()]
        finally:
            box.close()
    if not messages:
        raise SkipFile("boîte mail vide ou illisible (aucun message au format mbox)")
    parts = []
    for number, data in enumerate(messages, 1):
        # One message that cannot be read never takes its mailbox with it.
        try:
            message = email.message_from_bytes(data, policy=email.policy.default)
            parts.append(Part(f"message-{number}", message_document(message, raw)))
        except SkipFile as exc:
            parts.append(Part(f"message-{number}", reason=str(exc)))
        except RecursionError:
            parts.append(Part(f"message-{number}", reason=TOO_DEEP))
        except Exception as exc:  # noqa: BLE001 - the stdlib's parser on a hostile message
            parts.append(Part(f"message-{number}", reason=f"message illisible ({reason_of(exc)})"))
    return Extracted(text="", meta={}, parts=parts)


def message_document(message: EmailMessage, raw: RawFile) -> Extracted:
    subject = " ".join(str(message.get("subject", "")).split())
    sender = str(message.get("from", "") or "")
    names = getaddresses([sender])
    author = (names[0][0] or names[0][1]) if names else None
    recipients = ", ".join(a for _, a in getaddresses([str(message.get("to", "") or "")]) if a)
    try:
        sent = parsedate_to_datetime(str(message["date"])).date().isoformat() if message["date"] else None
    except (TypeError, ValueError, IndexError):
        sent = None
    try:
        body, problems, attachments = _walk(message, raw)
    except RecursionError:
        raise SkipFile(TOO_DEEP) from None
    blocks = ([f"# {subject}"] if subject else []) + body
    text = blocks_text(blocks)
    parts = problems + attachments
    meta = metadata(title=subject or None, author=author, sender=sender, recipients=recipients, date=sent,
                    date_source="message" if sent else None,
                    attachments=[p.key for p in attachments])
    if not body:
        reasons = "; ".join(p.reason for p in problems)
        if not attachments:
            raise SkipFile("message sans texte lisible" + (f" ({reasons})" if reasons else ""))
        text = ""  # only its attachments are documents
    return bounded(Extracted(text=text, meta=meta, parts=parts))


def _walk(message: EmailMessage, raw: RawFile) -> tuple[list[str], list[Part], list[Part]]:
    """The body blocks, the parts that could not be decoded, and the attachments."""
    body: list[str] = []
    problems: list[Part] = []
    attachments: list[Part] = []
    used: set[str] = set()
    budget = limits()
    seen = {"parts": 0, "attachments": 0, "ignored": 0, "deep": False}

    def visit(part, depth: int) -> None:
        seen["parts"] += 1
        number = seen["parts"]
        if number > budget.mime_parts:
            return
        if depth > budget.mime_depth:
            seen["deep"] = True
            return
        ctype = part.get_content_type()
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if ctype == "message/rfc822" or disposition == "attachment" or (
                filename and ctype not in ("text/plain", "text/html")):
            if not (ctype.startswith("image/") and disposition != "attachment"):  # newsletter pictures: decoration
                seen["attachments"] += 1
                if seen["attachments"] > budget.attachments:
                    seen["ignored"] += 1
                    return
                attachments.append(_attachment(part, filename, ctype, used, raw))
            return
        if part.is_multipart():
            children = list(part.iter_parts())
            # Alternatives say the same thing twice: the plain text is kept when there is one.
            plain = ctype == "multipart/alternative" and any(c.get_content_type() == "text/plain" for c in children)
            for child in children:
                if not (plain and child.get_content_type() == "text/html"):
                    visit(child, depth + 1)
            return
        if not ctype.startswith("text/"):
            return  # inline images and other decoration
        payload = part.get_payload(decode=True) or b""
        bad = _decoding_defects(part)
        if bad:
            problems.append(Part(f"partie-{number}", reason=f"partie illisible ({bad})"))
            return
        text = _decode(part, payload)
        if ctype == "text/html":
            body.extend(html_blocks(text))
        else:
            body.extend(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())

    visit(message, 0)
    if seen["ignored"]:
        more = seen["ignored"]
        problems.append(Part("pieces-jointes-ignorees", reason=f"{decimal(more, 0)} pièce{'s' if more > 1 else ''} "
                             f"jointe{'s' if more > 1 else ''} de plus non lue{'s' if more > 1 else ''} (limite "
                             f"{decimal(budget.attachments, 0)} par message, réglage VEILLE_MAIL_MAX_ATTACHMENTS)"))
    if seen["parts"] > budget.mime_parts:
        problems.append(Part("parties-ignorees", reason=f"message de plus de {decimal(budget.mime_parts, 0)} parties "
                             f"MIME : seules les {decimal(budget.mime_parts, 0)} premières sont lues (réglage "
                             f"VEILLE_MAIL_MAX_PARTS)"))
    if seen["deep"]:
        problems.append(Part("parties-imbriquees", reason=f"parties MIME imbriquées sur plus de "
                             f"{budget.mime_depth} niveaux : les plus profondes ne sont pas lues"))
    return body, problems, attachments


def _decoding_defects(part) -> str:
    """French name of the first transfer-encoding defect the stdlib noted while decoding ``part``."""
    for defect in part.defects:
        name = type(defect).__name__
        if "Base64" in name:
            return "encodage base64 invalide"
        if "QuotedPrintable" in name or "Undecodable" in name:
            return "encodage de transfert invalide"
    return ""


def _attachment(part, filename: str | None, ctype: str, used: set[str], raw: RawFile) -> Part:
    if ctype == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        key = _unique(f"message-joint-{len(used) + 1}", used)
        if inner is None:
            return Part(key, reason="message joint illisible")
        try:
            return Part(key, message_document(inner, raw))
        except SkipFile as exc:
            return Part(key, reason=str(exc))
    name = PurePath(filename or "").name or f"piece-jointe-{len(used) + 1}{mimetypes.guess_extension(ctype) or ''}"
    key = _unique(re.sub(r"[#/\\\s]+", "_", name), used)
    payload = part.get_payload(decode=True)
    bad = _decoding_defects(part)
    if bad:
        return Part(key, reason=f"pièce jointe illisible ({bad})")
    if not payload:
        return Part(key, reason="pièce jointe vide")
    try:
        return Part(key, read_attachment(RawFile(path=Path(name), data=payload, size=len(payload), mtime=raw.mtime)))
    except SkipFile as exc:
        return Part(key, reason=str(exc))


def _unique(key: str, used: set[str]) -> str:
    candidate, n = key, 2
    while candidate in used:
        stem, dot, ext = key.rpartition(".")
        candidate = f"{stem}-{n}.{ext}" if dot else f"{key}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def _decode(part, payload: bytes) -> str:
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):  # unknown or wrong charset: detected from the bytes instead
        try:
            return decode_text(payload)
        except SkipFile:
            return payload.decode("utf-8", errors="replace")
