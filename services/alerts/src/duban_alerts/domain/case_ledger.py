"""The cases the alerts service keeps clocks for: each case's recorded actions, and what its clocks say.

The alert book holds one `CaseLedger`. It keeps every action of every case (the rows of the book's
`case_steps`), folds a case when asked (`duban_contracts.casework.fold_case`: event time decides,
duplicates count once) and turns its clocks into alert signals (`casework.case_signals`). A case
whose clocks have all stopped and whose alerts are closed is left out of the daily evaluation until
a new action arrives (a cache, rebuilt after loading).

A date beyond the holiday data (`workdays.UnsupportedYear`) cannot be counted in working days: the
case is skipped and named in `unsupported`, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from duban_contracts.casework import CaseFile, CaseStep, fold_case

from .alert import Alert, Signal, fingerprint
from .casework import CaseRow, case_labels, case_row, clock_signal, clocks_of
from .config import CaseworkConfig
from .workdays import UnsupportedYear

Latest = Callable[[str], Alert | None]


class CaseLedger:
    def __init__(self, config: CaseworkConfig, zone: ZoneInfo, ladder: tuple[str, ...] | list[str]) -> None:
        self.config = config
        self.zone = zone
        self.ladder = tuple(ladder)
        self.calendar = config.calendar.calendar()
        self._steps: dict[str, dict[str, CaseStep]] = defaultdict(dict)
        self._settled: set[str] = set()
        self.unsupported: dict[str, int] = {}

    def put(self, step: CaseStep) -> None:
        self._steps[step.case_id][step.event_id] = step
        self._settled.discard(step.case_id)

    def steps(self) -> list[CaseStep]:
        return [step for steps in self._steps.values() for step in steps.values()]

    def case(self, case_id: str) -> CaseFile:
        return fold_case(self._steps[case_id].values())

    def cases(self) -> list[CaseFile]:
        return [self.case(case_id) for case_id in sorted(self._steps)]

    def signals_of(self, case_id: str, today: date, latest: Latest) -> list[Signal]:
        """What the case's clocks say on `today` (each compared with its latest alert)."""
        case = self.case(case_id)
        try:
            clocks = clocks_of(case, self.config, self.calendar, self.zone)
            found: list[Signal] = []
            running = False
            for clock in clocks:
                current = latest(fingerprint(case_labels(case, clock)))
                running = running or clock.is_running or (current is not None and current.is_open)
                signal = clock_signal(
                    case,
                    clock,
                    today=today,
                    current=current,
                    config=self.config,
                    calendar=self.calendar,
                    ladder=self.ladder,
                    zone=self.zone,
                )
                if signal is not None:
                    found.append(signal)
        except UnsupportedYear as error:
            self.unsupported[case_id] = error.year
            return []
        if not running:  # every clock stopped and every alert closed: nothing can change until a new action
            self._settled.add(case_id)
        return found

    def signals_on(self, today: date, latest: Latest) -> list[Signal]:
        """Every unsettled case's signals on a local day (the daily tick)."""
        found: list[Signal] = []
        for case_id in sorted(self._steps.keys() - self._settled):
            found.extend(self.signals_of(case_id, today, latest))
        return found

    def rows(self, today: date, *, open_only: bool = False) -> list[CaseRow]:
        """The cases for a list, by case number; a case beyond the holiday data shows without a due date."""
        rows = []
        for case in self.cases():
            if open_only and not case.state.is_open:
                continue
            try:
                rows.append(case_row(case, self.config, self.calendar, self.zone, today))
            except UnsupportedYear:
                rows.append(
                    CaseRow(
                        case.case_id,
                        case.channel.value,
                        case.category,
                        case.unit_name,
                        case.state.label_zh,
                        case.state.is_open,
                        None,
                        None,
                        False,
                        None,
                    )
                )
        return rows
