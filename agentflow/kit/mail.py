"""Outgoing mail. The embedded default keeps mail in a local outbox (and the log) so a person
can follow invite links without an SMTP server; production sends through SMTP."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import uuid
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.kit.errors import AppError
from agentflow.models.orgs import OutboxEmail
from agentflow.settings import Settings

log = logging.getLogger("agentflow.mail")


class MailDeliveryFailed(AppError):
    status_code = 502
    code = "MAIL_DELIVERY_FAILED"


async def send_mail(
    session: AsyncSession, settings: Settings, *, org_id: uuid.UUID, to: str, subject: str, body: str
) -> None:
    if settings.mail_backend == "outbox":
        session.add(OutboxEmail(org_id=org_id, to_address=to, subject=subject, body=body))
        await session.flush()
        log.info("mail kept in the local outbox", extra={"to": to, "subject": subject, "body": body})
        return
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(_deliver_smtp, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP delivery failed", extra={"to": to, "error": type(exc).__name__})
        raise MailDeliveryFailed("The email could not be sent; try again later") from exc


def _deliver_smtp(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
