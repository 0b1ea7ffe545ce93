"""E-mail over SMTP: `[SEVERITY] title`, text and HTML parts, one thread per incident."""

import html
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid

import aiosmtplib

from gatewatch.config.channels import EmailChannel
from gatewatch.notify.delivery import DELIVERED, DeliveryResult, from_transport_error
from gatewatch.notify.message import Kind, Message

# Folding a long non-ASCII subject into several encoded words loses the spaces between them
# in readers; with lines up to RFC 5322's 998 characters and subjects clipped, it never folds.
MAIL_POLICY = default.clone(max_line_length=998)
SUBJECT_MAX = 200


def header_text(text: str, limit: int = SUBJECT_MAX) -> str:
    """A header value on one line (line breaks in alert text fold into spaces), clipped."""
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def thread_id(incident_id: int, domain: str) -> str:
    """The thread root every mail of an incident refers to, so clients thread them."""
    return f"<incident-{incident_id}@{domain}>"


def build_email(message: Message, sender: str, recipients: list[str]) -> EmailMessage:
    domain = sender.rpartition("@")[2]
    if message.kind is Kind.HANDOFF:
        return _handoff_email(message, sender, recipients, domain)
    subject = header_text(f"[{message.severity.upper()}] {message.title}")
    verb = {
        Kind.TRIGGER: "",
        Kind.REMINDER: "Reminder: ",
        Kind.ACKNOWLEDGE: f"Acknowledged by {message.actor}: ",
        Kind.RESOLVE: f"Resolved by {message.actor}: ",
    }[message.kind]
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = format_datetime(datetime.now(UTC))
    # Every mail has a Message-ID of its own (RFC 5322), the same on every retry of one
    # notification; all of an incident's mails refer to one thread root, so clients thread them.
    root = thread_id(message.incident_id, domain)
    if message.delivery_id is not None:
        mail["Message-ID"] = f"<{message.delivery_id}.incident-{message.incident_id}@{domain}>"
    else:
        mail["Message-ID"] = make_msgid(f"incident-{message.incident_id}", domain=domain)
    mail["References"] = root
    if message.kind is Kind.TRIGGER and message.step in (None, 0):
        mail["Subject"] = subject
    else:
        mail["Subject"] = f"Re: {subject}"
        mail["In-Reply-To"] = root
    lines = [
        f"{verb}{message.title}",
        "",
        message.text,
        "",
        f"Severity: {message.severity}   Status: {message.status}",
        f"Incident: {message.incident_url}",
    ]
    if message.runbook_url:
        lines.append(f"Runbook: {message.runbook_url}")
    lines += ["", "Labels:"] + [f"  {k}={v}" for k, v in sorted(message.labels.items())]
    mail.set_content("\n".join(lines))
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in sorted(message.labels.items())
    )
    runbook = (
        f'<p><a href="{html.escape(message.runbook_url)}">Runbook</a></p>'
        if message.runbook_url
        else ""
    )
    mail.add_alternative(
        f"<h2>{html.escape(verb + message.title)}</h2><p>{html.escape(message.text)}</p>"
        f"<p>Severity <b>{html.escape(message.severity)}</b>, status "
        f"<b>{html.escape(message.status)}</b></p>"
        f'<p><a href="{html.escape(message.incident_url)}">Incident #{message.incident_id}</a></p>'
        f"{runbook}<table>{rows}</table>",
        subtype="html",
    )
    return mail


def _handoff_email(
    message: Message, sender: str, recipients: list[str], domain: str
) -> EmailMessage:
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Subject"] = header_text(f"[ON CALL] {message.title}")
    mail["Message-ID"] = (
        f"<{message.delivery_id}.handoff@{domain}>"
        if message.delivery_id is not None
        else make_msgid("handoff", domain=domain)
    )
    mail.set_content(f"{message.title}\n\n{message.text}\n\nOn call: {message.incident_url}")
    return mail


class EmailNotifier:
    def __init__(self, config: EmailChannel, timeout: float) -> None:
        self.id = config.id
        self._config = config
        self._timeout = timeout

    async def send(self, message: Message) -> DeliveryResult:
        config = self._config
        recipient = message.recipient
        recipients = [recipient.email] if recipient and recipient.email else list(config.to)
        if not recipients:
            return DeliveryResult(
                ok=False,
                retryable=False,
                error="no recipient: the person has no e-mail and `to` is empty",
            )
        mail = build_email(message, config.sender, recipients)
        try:
            await aiosmtplib.send(
                mail,
                hostname=config.host,
                port=config.port,
                start_tls=config.starttls,
                username=config.username,
                password=config.password,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx is a temporary refusal; 5xx is permanent.
            return DeliveryResult(
                ok=False, retryable=exc.code < 500, error=f"SMTP {exc.code}: {exc.message}"
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return from_transport_error(exc)
        return DELIVERED
