"""SliceCheckpoints: the slice results of one operation saved in the store under one plan."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceResult
from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)


class SliceCheckpoints:
    """Saves each slice's result as it finishes and reads back what an earlier attempt saved.

    Keyed by `plan_id`, which names everything a result depends on: a result is reused only by a run that
    would have recognised the same slice of the same audio in the same way.
    """

    def __init__(
        self,
        store: OperationStore,
        operation_id: str,
        owner: str,
        plan: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._operation_id = operation_id
        self._owner = owner
        self.plan = plan
        self._clock = clock

    def saved(self) -> dict[int, SliceResult]:
        """Results saved under this plan, by slice index; one is reused only for the very slice it was planned as
        (`reusable`), as the plan is found again while the run goes."""
        results = {}
        for index, data in sorted(self._store.saved_slices(self._operation_id, self.plan).items()):
            try:
                result = SliceResult.from_bytes(data)
            except (ValueError, KeyError, TypeError):
                log.warning(
                    "%s: saved slice %d is unreadable; recognising it again",
                    self._operation_id,
                    index,
                    extra={"operation_id": self._operation_id},
                )
                continue
            results[index] = result
        return results

    @staticmethod
    def reusable(saved: dict[int, SliceResult], planned: SliceSpec) -> SliceResult | None:
        """The saved result of `planned`, if one was saved for exactly that slice."""
        result = saved.get(planned.index)
        return result if result is not None and result.slice == planned else None

    def save(self, result: SliceResult) -> bool:
        """Save a result; False when the store refused it: the lease is no longer this owner's."""
        return self._store.save_slice(
            self._operation_id,
            self._owner,
            self.plan,
            result.slice.index,
            result.to_bytes(),
            self._clock(),
        )
