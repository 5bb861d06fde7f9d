"""What the remedies service needs from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ombud.kernel.files import Upload
from ombud.remedies.domain import Case, CaseAttachment, CaseMessage, CaseState


class CaseRepository(Protocol):
    def add(self, case: Case) -> Case | None:
        """Store a new case; None (nothing stored) if its tracking code is taken."""
        ...

    def get(self, case_id: int, for_update: bool = False) -> Case | None: ...
    def by_tracking_code(self, code: str) -> Case | None: ...
    def save(self, case: Case) -> None: ...
    def for_organisations(
        self,
        org_ids: frozenset[int],
        state: CaseState | None,
        offset: int,
        limit: int,
        escalated_only: bool = False,
    ) -> tuple[list[Case], int]: ...
    def add_message(self, message: CaseMessage) -> None: ...
    def messages(self, case_id: int) -> list[CaseMessage]: ...
    def add_attachment(
        self, case_id: int, upload: Upload, content_type: str, at: datetime
    ) -> CaseAttachment: ...
    def attachments(self, case_id: int) -> list[CaseAttachment]: ...
    def attachment_data(
        self, case_id: int, attachment_id: int
    ) -> tuple[CaseAttachment, bytes] | None: ...
