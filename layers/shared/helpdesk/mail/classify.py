"""Recognising automatic mail: bounces, auto-replies and abuse reports.

Checked in this order, first match wins:
1. abuse reports: ARF (multipart/report; report-type=feedback-report), SES complaint notices;
2. bounces: RFC 3464 delivery status reports, SES bounce notices, and the free-text forms
   that MTAs send from MAILER-DAEMON or postmaster (sender, subject and body together);
3. auto-replies: RFC 3834 Auto-Submitted other than "no", X-Autoreply and friends,
   X-Auto-Response-Suppress, Precedence bulk/junk/list, and out-of-office subjects in
   several languages.
Anything else is customer mail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from helpdesk.mail.headers import parse_address_list, parse_mailbox, parse_message_ids, unfold
from helpdesk.mail.model import Outcome, ParsedMail


@dataclass
class Verdict:
    """What a mail is, why, and for a bounce what it reports on."""

    outcome: Outcome = Outcome.CUSTOMER
    reason: str = ""
    automatic: bool = False
    bounced_message_ids: list[str] = field(default_factory=list)
    bounced_recipients: list[str] = field(default_factory=list)


_DAEMON_LOCAL_PARTS = frozenset(
    {
        "mailer-daemon",
        "mailerdaemon",
        "mailer_daemon",
        "postmaster",
        "post_master",
        "mail.delivery.system",
        "mail-delivery-system",
        "maildelivery",
        "mdaemon",
        "bounce",
        "bounces",
        "daemon",
        "majordomo-owner",
    }
)
_NO_REPLY = re.compile(r"no[-_.]?reply|do[-_.]?not[-_.]?reply")
_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|tr|rv|i|enc|vs)\s*:", re.IGNORECASE)
_LIST_MANAGER_HEADERS = ("x-mlserver", "x-ml-name", "list-id", "x-mailman-version", "x-loop")
_DAEMON_NAME = re.compile(
    r"mail delivery|mailer.?daemon|postmaster|mail deliver system|delivery subsystem", re.I
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not (?:be )?delivered|delivery (?:status|failure|failed|report|"
    r"notification|has failed|problem)|returned mail|returning message|failure notice|"
    r"mail delivery fail|mail system error|non.?delivery|nondeliverable|delayed mail|"
    r"message .{0,40}delayed|could not send|permanent delivery failure|error sending your mail|"
    r"mail failure|rejected|loop alert|delivery notification|warning: could not|"
    r"unzustellbar|nicht zugestellt|non remis|no entregado|non consegnato|"
    r"onbestelbaar|não entregue|недостав|未達|エラー|退信|投递失败",
    re.I,
)
_BOUNCE_BODY = re.compile(
    r"(?i)(?:"
    r"this is the mail system at|the original message was received|"
    r"i'm afraid i wasn't able to deliver|could not be delivered to|"
    r"delivery to the following recipient|message could not be delivered|"
    r"created automatically by mail delivery software|did not reach (?:some or all|the following)|"
    r"this is the qmail-send program|unable to deliver (?:your )?message|"
    r"permanent fatal error|following address(?:es)? had permanent|"
    r"delivery has failed to these recipients|your message (?:was|has been) (?:rejected|returned)|"
    r"mailbox (?:is )?(?:full|unavailable|not found)|user unknown|no such user|"
    r"host or domain name not found|recipient address rejected|"
    r"recipient name is not recognized|message delivery has failed|"
    r"unrouteable address|retry timeout exceeded|has not yet been delivered|"
    r"sorry, no mailbox here|original mail as follows|original message follows|"
    r"diagnostic-code:|final-recipient:|remote-mta:|reporting-mta:|smtp error|"
    r"\b[45]\.[0-7]\.\d{1,3}\b|\b[45][0-5]\d[ -][45]\.\d)",
)
# Out-of-office subjects, matched on the subject alone. Only forms no person would write
# about their own problem count: a known prefix followed by a colon ("Abwesend: Re: ..."), a
# known phrase that is the whole subject ("Out of Office"), or a sentence of absence with a
# date or an end ("Ich bin bis 20.12. nicht im Büro"). A subject merely containing
# "vacation", "ooo" or "auto-reply" ("Auto-reply setup question") is customer mail.
_AUTO_PHRASES = (
    r"auto(?:matic|matische)?[ -]?(?:reply|response|answer|antwort)|autoreply|autorespon(?:se|der)"
    r"|out of (?:the )?office(?: reply| autoreply)?|ooo|oof"
    r"|away from (?:my|the) (?:desk|office)|vacation(?: reply| notice)?|on vacation|holiday"
    r"|abwesend|abwesenheit|abwesenheitsnotiz|automatische antwort|au(?:ß|ss)er haus|urlaub"
    r"|nicht im büro|nicht im buero|r[ée]ponse automatique|absence(?: du bureau)?|absent"
    r"|respuesta autom[áa]tica|fuera de (?:la )?oficina|risposta automatica|fuori sede"
    r"|assente|automatisch antwoord|afwezig|afwezigheid|resposta autom[áa]tica|aus[êe]ncia"
    r"|fora do escrit[óo]rio|autosvar|automatisk svar|fr[åa]nvaro|automatyczna odpowied[źz]"
    r"|poza biurem|автоответ|автоматический ответ|нет на месте"
    r"|自動応答|自動返信|不在|自动回复"
)
_REPLY_PREFIX = r"(?:(?:re|aw|sv|antw|wg|fw|fwd)\s*:\s*)?"
_AUTO_SUBJECT_PREFIX = re.compile(
    rf"^\s*{_REPLY_PREFIX}(?:{_AUTO_PHRASES})\s*[:\uff1a]", re.IGNORECASE
)
_AUTO_SUBJECT_EXACT = re.compile(
    rf"^\s*{_REPLY_PREFIX}(?:{_AUTO_PHRASES})\s*[.!]?\s*$", re.IGNORECASE
)
_ABSENCE_SENTENCE = re.compile(
    r"^\s*(?:"
    r"ich bin (?:bis|vom|von|ab|seit)\b.{1,40}?\b(?:nicht im b(?:ü|ue)ro|abwesend|im urlaub"
    r"|au(?:ß|ss)er haus|nicht erreichbar)"
    r"|i(?:'m| am| will be) (?:currently |now )?(?:out of (?:the )?office|away from (?:the|my) "
    r"(?:office|desk)|on (?:vacation|holiday|annual leave|leave))"
    r"(?:\s+(?:until|till|through|from|back on|returning)\b.*)?"
    r"|je suis absente?(?:\s+(?:jusqu'au|du)\b.*)?"
    r"|estoy fuera de (?:la )?oficina(?:\s+hasta\b.*)?"
    r")[\s.!]*$",
    re.IGNORECASE,
)
_COMPLAINT_SUBJECT = re.compile(
    r"complaint about message|abuse report|spam report|feedback.loop|\bfbl\b", re.I
)
_PRECEDENCE_AUTOMATIC = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_AUTO_HEADERS = (
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-auto-reply",
    "x-autogenerated",
    "x-ms-exchange-generated-message-source",
    "x-mailautoreply",
)
_MESSAGE_ID_LINE = re.compile(r"(?im)^\s*message-id:\s*(<[^<>\s]+>)")
_FINAL_RECIPIENT = re.compile(
    r"(?im)^\s*(?:final|original)-recipient:\s*(?:rfc822|utf-8|x-unknown)?\s*;?\s*<?([^\s<>;]+@[^\s<>;]+?)>?\s*$"
)
_ACTION = re.compile(r"(?im)^\s*action:\s*(\w+)")
_ANGLE_LINE = re.compile(r"(?m)^\s*<([^\s<>@]+@[^\s<>]+)>:?")
_INDENTED_ADDRESS = re.compile(r"(?m)^\s{2,}([^\s<>@:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\s*$")


def classify(
    message: Message, mail: ParsedMail, part_types: list[tuple[str, Message]] | None = None
) -> Verdict:
    """The verdict for a parsed mail: customer, bounce, auto-reply or abuse report.

    `message` is the parsed MIME tree and `mail` the fields already read from it;
    `part_types` is (content type, part) for every part when the caller has it already.
    Returns a Verdict; never raises on odd input (unreadable parts count as absent).
    """
    headers = _headers(message)
    parts = part_types if part_types is not None else _parts(message)
    content_type = parts[0][0] if parts else _content_type(message)
    report_type = _param(headers.get("content-type", ""), "report-type").lower()
    types = {ctype for ctype, _ in parts}

    if report_type == "feedback-report" or "message/feedback-report" in types:
        return Verdict(Outcome.ABUSE_REPORT, "ARF feedback report", automatic=True)
    if _COMPLAINT_SUBJECT.search(mail.subject) and "message/rfc822" in types:
        return Verdict(Outcome.ABUSE_REPORT, "complaint with the reported message", True)
    if headers.get("x-apple-unsubscribe", "").lower() == "true":
        return Verdict(Outcome.ABUSE_REPORT, "unsubscribe request (X-Apple-Unsubscribe)", True)

    ses = _ses_notification(mail)
    if ses is not None:
        return ses

    is_dsn = report_type == "delivery-status" or "message/delivery-status" in types
    other_report = content_type == "multipart/report" and report_type != "disposition-notification"
    if is_dsn or other_report:
        return _bounce(headers, parts, mail, "RFC 3464 delivery status report")
    bounce_reason = _free_text_bounce(headers, mail)
    if bounce_reason:
        return _bounce(headers, parts, mail, bounce_reason)

    auto_reason = _auto_reply_reason(headers, mail, report_type)
    if auto_reason:
        return Verdict(Outcome.AUTO_REPLY, auto_reason, automatic=True)
    return Verdict()


def _headers(message: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        headers.setdefault(str(name).strip().lower(), unfold(str(value)).strip())
    return headers


def _content_type(message: Message) -> str:
    try:
        return message.get_content_type()
    except Exception:  # an unreadable Content-Type counts as plain text
        return "text/plain"


def _param(header_value: str, name: str) -> str:
    match = re.search(rf"(?i)(?:^|;)\s*{name}\s*=\s*\"?([^\";]+)", header_value)
    return match[1].strip() if match else ""


def _parts(message: Message) -> list[tuple[str, Message]]:
    """(content type, part) for every part, not descending into attached messages' bodies."""
    found: list[tuple[str, Message]] = []
    stack = [message]
    while stack and len(found) < 200:
        part = stack.pop()
        ctype = _content_type(part)
        found.append((ctype, part))
        if ctype.startswith("multipart/") and part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
    return found


def _sender_is_daemon(headers: dict[str, str]) -> bool:
    """Whether the sender is a mail server or a list manager, not a person."""
    value = headers.get("from", "")
    address, name = parse_mailbox(value) if value else (None, "")
    local = (address or "").rpartition("@")[0].lower()
    if local in _DAEMON_LOCAL_PARTS or local.startswith(("mailer-daemon", "postmaster", "owner-")):
        return True
    if local.endswith("-bounces"):
        return True
    # "it-admin" may well be a person; a list manager's "-admin" comes with list headers.
    list_software = any(name in headers for name in _LIST_MANAGER_HEADERS)
    if list_software and local.endswith(("-admin", "-owner", "-request")):
        return True
    if not address and "mailer-daemon" in value.lower():
        return True
    return bool(_DAEMON_NAME.search(name))


def _free_text_bounce(headers: dict[str, str], mail: ParsedMail) -> str:
    """Why a mail without a machine-readable report is still a bounce, or "".

    Only a bounce-like sender can send one: a mail server or postmaster address, a null
    Return-Path, or an MTA's X-Failed-Recipients. A person writing "your mail is rejected
    by our server, 550 5.1.1 user unknown, please help" is a customer, however much the text
    reads like a bounce.
    """
    daemon = _sender_is_daemon(headers)
    failed_header = "x-failed-recipients" in headers
    null_sender = _null_return_path(headers)
    machine = _sender_is_no_reply(headers)
    if not (daemon or failed_header or null_sender or machine):
        return ""
    subject_hit = bool(_BOUNCE_SUBJECT.search(mail.subject))
    if _FORWARD_PREFIX.match(mail.subject) and not (daemon or failed_header):
        # A person forwarding a bounce they received is asking for help: customer mail.
        return ""

    hits = {m.group(0).lower() for m in _BOUNCE_BODY.finditer(mail.text[:20_000])}
    body_hits = len(hits)
    if daemon and (subject_hit or body_hits):
        return "delivery failure from a mail server"
    if failed_header and (subject_hit or body_hits):
        return "delivery failure (X-Failed-Recipients)"
    if null_sender and (subject_hit or body_hits >= 2):
        return "delivery failure with a null sender"
    original_attached = any(
        a.content_type in ("message/rfc822", "text/rfc822-headers") for a in mail.attachments
    )
    if machine and subject_hit and (body_hits or original_attached):
        return "delivery failure report from a no-reply sender"
    return ""


def _sender_is_no_reply(headers: dict[str, str]) -> bool:
    """Whether From is a provider's no-reply address, as some MTAs send their bounces from."""
    value = headers.get("from", "")
    address = parse_mailbox(value)[0] if value else None
    local = (address or "").rpartition("@")[0].lower()
    return bool(_NO_REPLY.fullmatch(local))


def _null_return_path(headers: dict[str, str]) -> bool:
    """Whether the envelope sender is null ("<>" or empty) or a mail server's own address."""
    if "return-path" not in headers:
        return False
    value = headers["return-path"].replace(" ", "")
    if value in ("", "<>"):
        return True
    local = value.strip("<>").rpartition("@")[0].lower()
    return local in _DAEMON_LOCAL_PARTS or local.startswith(("mailer-daemon", "postmaster"))


def _ses_notification(mail: ParsedMail) -> Verdict | None:
    """An SES bounce or complaint notice delivered as SNS email (JSON body)."""
    text = mail.text.lstrip()
    if not text.startswith("{") or '"notificationType"' not in text[:200]:
        return None
    try:
        notice = json.JSONDecoder(strict=False).raw_decode(text)[0]
    except ValueError:
        return None
    if not isinstance(notice, dict):
        return None
    kind = str(notice.get("notificationType", "")).lower()
    ids = _ses_message_ids(_mapping(notice.get("mail")))
    if kind == "bounce":
        bounce = _mapping(notice.get("bounce"))
        recipients = [
            str(r.get("emailAddress"))
            for r in bounce.get("bouncedRecipients", [])
            if isinstance(r, dict) and r.get("emailAddress")
        ]
        return Verdict(Outcome.BOUNCE, "SES bounce notification", True, ids, recipients)
    if kind == "complaint":
        return Verdict(Outcome.ABUSE_REPORT, "SES complaint notification", automatic=True)
    if kind == "delivery":
        return Verdict(Outcome.AUTO_REPLY, "SES delivery notification", automatic=True)
    return None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ses_message_ids(original: dict[str, Any]) -> list[str]:
    """The Message-ID header SES saw on our outbound mail, and the id SES gives one without."""
    ids: list[str] = []
    common = _mapping(original.get("commonHeaders"))
    if common.get("messageId"):
        ids += parse_message_ids(str(common["messageId"]))
    headers = original.get("headers")
    for header in headers if isinstance(headers, list) else []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            ids += parse_message_ids(str(header.get("value", "")))
    if original.get("messageId"):
        ids.append(f"<{original['messageId']}@email.amazonses.com>")
    return list(dict.fromkeys(ids))


def _bounce(
    headers: dict[str, str], parts: list[tuple[str, Message]], mail: ParsedMail, reason: str
) -> Verdict:
    ids: list[str] = []
    recipients: list[str] = []
    for ctype, part in parts:
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                ids += parse_message_ids(_raw_header(inner[0], "message-id"))
        elif ctype in ("text/rfc822-headers", "text/rfc822-header", "message/rfc822-headers"):
            ids += _MESSAGE_ID_LINE.findall(_text_of(part))
        elif ctype in ("message/delivery-status", "message/global-delivery-status"):
            recipients += _dsn_recipients(_text_of(part))
    for name in ("x-original-message-id", "in-reply-to"):
        if name in headers:
            ids += parse_message_ids(headers[name])
    if not ids:
        # Free-text bounces quote the original headers in the body.
        ids += _MESSAGE_ID_LINE.findall(mail.text[:200_000])
    if "x-failed-recipients" in headers:
        recipients += parse_address_list(headers["x-failed-recipients"])
    if not recipients:
        recipients += _body_recipients(mail.text[:50_000])
    own = {mail.message_id}
    return Verdict(
        Outcome.BOUNCE,
        reason,
        automatic=True,
        bounced_message_ids=[i for i in dict.fromkeys(ids) if i not in own],
        bounced_recipients=list(dict.fromkeys(r.lower() for r in recipients))[:50],
    )


def _dsn_recipients(text: str) -> list[str]:
    """Final-Recipient of each per-recipient block whose Action is not "delivered"/"relayed"."""
    recipients: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        action = _ACTION.search(block)
        if action and action[1].lower() in ("delivered", "relayed", "expanded"):
            continue
        finals = _FINAL_RECIPIENT.findall(block)
        if finals:
            recipients.append(finals[0])
    return recipients


def _body_recipients(text: str) -> list[str]:
    head = re.split(
        r"(?im)^.{0,20}(?:original message|message headers follow|"
        r"below this line is a copy|headers of your message)",
        text,
        maxsplit=1,
    )[0]
    found = _ANGLE_LINE.findall(head) or _INDENTED_ADDRESS.findall(head)
    return [a.strip(".:;") for a in found][:20]


def _text_of(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = []
        for inner in payload:
            if isinstance(inner, Message):
                blocks.append("\n".join(f"{k}: {v}" for k, v in inner.raw_items()))
        return "\n\n".join(blocks)
    try:
        data = part.get_payload(decode=True)
    except Exception:  # undecodable transfer encoding: read the raw text
        data = None
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return str(payload)


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if str(key).lower() == name:
            return str(value)
    return ""


def _auto_reply_reason(headers: dict[str, str], mail: ParsedMail, report_type: str) -> str:
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    if report_type == "disposition-notification":
        return "read receipt (message disposition notification)"
    for name in _AUTO_HEADERS:
        if name in headers and headers[name].strip().lower() not in ("no", "false", "0"):
            return f"{name} header"
    suppress = headers.get("x-auto-response-suppress", "").lower()
    if re.search(r"\b(all|oof|autoreply)\b", suppress):
        return "X-Auto-Response-Suppress"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _PRECEDENCE_AUTOMATIC:
        return f"Precedence: {precedence}"
    if _out_of_office_subject(mail.subject):
        return "out-of-office subject"
    return ""


def _out_of_office_subject(subject: str) -> bool:
    """Whether the subject alone says it is an out-of-office reply (see _AUTO_PHRASES)."""
    return bool(
        _AUTO_SUBJECT_PREFIX.match(subject)
        or _AUTO_SUBJECT_EXACT.match(subject)
        or _ABSENCE_SENTENCE.match(subject)
    )
