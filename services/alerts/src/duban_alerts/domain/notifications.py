"""Who is told what, and when: routing, grouping, inhibition, silences, repeats (Alertmanager's model).

Planning reads the alerts as they are and a log of what each group was last told; it is
idempotent — planning twice at the same moment sends nothing the second time. Per group:

- the first notification waits `group_wait` after the group's earliest alert was first seen;
- while something was told before, news (a new alert, a severity / escalation / stage change, or a
  resolution of something told) waits `group_interval` after the last notification;
- with no news, alerts still firing are repeated every `repeat_interval`.

Acknowledged, silenced and inhibited alerts are left out; they still change state.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter

from duban_contracts.events import AlertState

from .alert import Alert
from .config import InhibitRule, RouteConfig
from .matchers import Matcher, matches_all, parse_matchers

T = TypeVar("T")


@dataclass(frozen=True)
class Silence:
    """Mute notifications for alerts matching every matcher, from `starts_at` until `ends_at`."""

    id: str
    matchers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime

    def is_active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.is_active(now) and matches_all(parse_matchers(self.matchers), labels)


def _inherit(own: T | None, inherited: T | None) -> T:
    value = own if own is not None else inherited
    assert value is not None, "the root route sets every field (checked when the config loads)"
    return value


@dataclass(frozen=True)
class Route:
    """A routing-tree node with its inherited settings filled in."""

    path: str
    receiver: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    send_resolved: bool
    continue_: bool
    children: tuple[Route, ...] = ()

    @classmethod
    def tree(cls, config: RouteConfig) -> Route:
        return cls._build(config, None, "0")

    @classmethod
    def _build(cls, config: RouteConfig, parent: Route | None, path: str) -> Route:
        node = cls(
            path=path,
            receiver=_inherit(config.receiver, parent.receiver if parent else None),
            matchers=config.parsed_matchers,
            group_by=_inherit(config.group_by, parent.group_by if parent else None),
            group_wait=_inherit(config.group_wait, parent.group_wait if parent else None),
            group_interval=_inherit(config.group_interval, parent.group_interval if parent else None),
            repeat_interval=_inherit(config.repeat_interval, parent.repeat_interval if parent else None),
            send_resolved=_inherit(config.send_resolved, parent.send_resolved if parent else None),
            continue_=config.continue_,
        )
        children = tuple(cls._build(child, node, f"{path}.{i}") for i, child in enumerate(config.routes))
        return replace(node, children=children)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert goes to: the deepest matching nodes, honouring `continue`."""
        if not matches_all(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.children:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]


@dataclass(frozen=True)
class Inhibition:
    """An inhibition rule with its matchers parsed."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def of(cls, rule: InhibitRule) -> Inhibition:
        return cls(parse_matchers(rule.source_matchers), parse_matchers(rule.target_matchers), rule.equal)


def inhibited_ids(labelled: Sequence[tuple[Alert, Mapping[str, str]]], rules: Sequence[Inhibition]) -> set[str]:
    """Ids of the alerts muted by an open alert matching a rule's source (the `equal` labels must agree)."""
    muted: set[str] = set()
    for rule in rules:
        sources: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for alert, labels in labelled:
            if alert.is_open and matches_all(rule.source, labels):
                sources[tuple(labels.get(name, "") for name in rule.equal)].add(alert.id)
        if not sources:
            continue
        for alert, labels in labelled:
            if alert.id in muted or not matches_all(rule.target, labels):
                continue
            same = sources.get(tuple(labels.get(name, "") for name in rule.equal), set())
            if same - {alert.id}:
                muted.add(alert.id)
    return muted


@dataclass(frozen=True)
class GroupLog:
    """What one group (receiver + route + group labels) was last told."""

    group_key: str
    receiver: str
    group_labels: dict[str, str]
    sent_at: datetime
    sequence: int
    told: tuple[str, ...] = ()  # versions of the firing alerts told: "id|severity|escalation|stage"

    @property
    def told_ids(self) -> set[str]:
        return {version.split("|", 1)[0] for version in self.told}


@dataclass(frozen=True)
class Notification:
    key: str  # idempotency key: the same notification always has the same key
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    reason: Literal["new", "changed", "repeat", "resolved"]
    created_at: datetime
    firing: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()
    route_path: str = field(default="0")


def _version(alert: Alert) -> str:
    return f"{alert.id}|{alert.severity.value}|{alert.escalation_level}|{alert.stage}"


def group_key(route: Route, labels: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    group_labels = {name: labels.get(name, "") for name in route.group_by}
    encoded = ",".join(f"{name}={value}" for name, value in sorted(group_labels.items()))
    return f"{route.path}|{route.receiver}|{{{encoded}}}", group_labels


class Router:
    """The routing tree with a memo: the same labels always route to the same groups.

    The memo is keyed on the labels the tree reads (its matchers' and its `group_by` names) alone:
    alerts that differ only in others (a data-quality alert's `fact_id`) share one entry, so the
    memo stays as small as the set of groups instead of growing by an entry per alert.
    """

    def __init__(self, config: RouteConfig) -> None:
        self.root = Route.tree(config)
        self._read = tuple(sorted(_names_read(self.root)))
        self._memo: dict[tuple[str, ...], tuple[tuple[Route, str, dict[str, str]], ...]] = {}

    def groups_for(self, labels: Mapping[str, str]) -> tuple[tuple[Route, str, dict[str, str]], ...]:
        """(route, group key, group labels) for each route the labels go to."""
        memo_key = tuple([labels.get(name, "") for name in self._read])
        found = self._memo.get(memo_key)
        if found is None:
            found = tuple((route, *group_key(route, labels)) for route in self.root.match(labels))
            if len(self._memo) < 10_000:
                self._memo[memo_key] = found
        return found


def _names_read(route: Route) -> set[str]:
    """The label names `route` and the routes under it match on or group by."""
    names = {matcher.name for matcher in route.matchers} | set(route.group_by)
    for child in route.children:
        names |= _names_read(child)
    return names


@dataclass
class _Group:
    route: Route
    key: str
    labels: dict[str, str]
    members: dict[str, Alert] = field(default_factory=dict)  # by alert id


@dataclass(frozen=True)
class Planned:
    notifications: list[Notification]
    logs: list[GroupLog]


_NEVER = datetime.max.replace(tzinfo=UTC)


class Planner:
    """Plans notifications. It keeps the grouping and each group's next due time: a clock tick with
    nothing due costs almost nothing, and a changed alert is regrouped alone — only the groups it
    leaves or joins (and those whose alerts it inhibits or releases) are decided again. That memory
    is a cache, not state: a new Planner plans exactly the same notifications from the same alerts
    and logs. (It may keep a resolved alert no group was told about as a member; `_decide` passes
    over such an alert, so the plans are the same.)
    """

    def __init__(self, router: Router, inhibitions: Sequence[Inhibition], ladder: tuple[str, ...]) -> None:
        self._router = router
        self._inhibitions = inhibitions
        self._ladder = ladder
        self._groups: dict[str, _Group] | None = None
        self._mutes: dict[str, bool] = {}
        #: Each grouped alert with its labels and the keys of its groups.
        self._labelled: dict[str, tuple[Alert, dict[str, str], tuple[str, ...]]] = {}
        self._inhibited: set[str] = set()
        self._active: list[Silence] = []  # the silences active until `_regroup_at`
        self._changed: dict[str, Alert] = {}
        self._regroup_at = _NEVER  # the next silence boundary: mutes change then
        self._due: dict[str, datetime] = {}

    def invalidate(self) -> None:
        """Silences changed: group everything again on the next call."""
        self._groups = None
        self._changed = {}

    def changed(self, alert: Alert) -> None:
        """An alert was added or changed: regroup it on the next call."""
        if self._groups is not None:
            self._changed[alert.id] = alert

    def plan(
        self,
        alerts: Callable[[], Iterable[Alert]],
        logs: Mapping[str, GroupLog],
        silences: Iterable[Silence],
        now: datetime,
    ) -> Planned:
        """Notifications due at `now` and the group log entries that record them."""
        if self._groups is None or now >= self._regroup_at:
            self._regroup(list(alerts()), list(silences), now)
            keys = sorted(self._groups or {})
        else:
            touched = self._regroup_changed(now) if self._changed else set()
            keys = sorted(touched | {key for key, due in self._due.items() if due <= now})
        groups = self._groups or {}
        notifications: list[Notification] = []
        written: list[GroupLog] = []
        for key in keys:
            group = groups.get(key)
            if group is None:  # emptied by a change
                self._due.pop(key, None)
                continue
            decided = _decide(group, logs.get(key), lambda alert: self._mutes[alert.id], now)
            if decided.notification is not None and decided.log is not None:
                notifications.append(decided.notification)
                written.append(decided.log)
            if decided.next_due is None:
                self._due.pop(key, None)
            else:
                self._due[key] = decided.next_due
        return Planned(notifications, written)

    def _regroup(self, alerts: list[Alert], silences: list[Silence], now: datetime) -> None:
        self._active = [silence for silence in silences if silence.is_active(now)]
        labelled = [(alert, alert.match_labels(self._ladder)) for alert in alerts]
        self._inhibited = inhibited_ids(labelled, self._inhibitions)
        groups: dict[str, _Group] = {}
        self._mutes = {}
        self._labelled = {}
        for alert, labels in labelled:
            self._mutes[alert.id] = self._muted(alert.id, labels, now)
            keys = []
            for route, key, group_labels in self._router.groups_for(labels):
                groups.setdefault(key, _Group(route, key, group_labels)).members[alert.id] = alert
                keys.append(key)
            self._labelled[alert.id] = (alert, labels, tuple(keys))
        self._groups = groups
        self._changed = {}
        self._due = {}
        boundaries = [moment for s in silences for moment in (s.starts_at, s.ends_at) if moment > now]
        self._regroup_at = min(boundaries, default=_NEVER)

    def _regroup_changed(self, now: datetime) -> set[str]:
        """Move the changed alerts between groups; the keys of the groups to decide again."""
        groups = self._groups
        assert groups is not None
        changed, self._changed = self._changed, {}
        touched: set[str] = set()
        inhibition_may_change = False
        for alert in changed.values():
            before = self._labelled.get(alert.id)
            if before is None and not alert.is_open:
                continue  # never grouped while open, so never told: no news in its resolution
            labels = alert.match_labels(self._ladder)
            inhibition_may_change |= self._in_inhibitions(labels) or (
                before is not None and self._in_inhibitions(before[1])
            )
            for key in before[2] if before else ():
                group = groups[key]
                group.members.pop(alert.id, None)
                touched.add(key)
                if not group.members:
                    del groups[key]
            keys = []
            for route, key, group_labels in self._router.groups_for(labels):
                groups.setdefault(key, _Group(route, key, group_labels)).members[alert.id] = alert
                keys.append(key)
            touched.update(keys)
            self._labelled[alert.id] = (alert, labels, tuple(keys))
        remute = set(changed) & self._labelled.keys()
        if inhibition_may_change:
            inhibited = inhibited_ids([(a, labels) for a, labels, _ in self._labelled.values()], self._inhibitions)
            remute |= inhibited ^ self._inhibited
            self._inhibited = inhibited
        for alert_id in remute:
            _, labels, its_groups = self._labelled[alert_id]
            muted = self._muted(alert_id, labels, now)
            if self._mutes.get(alert_id) != muted:
                self._mutes[alert_id] = muted
                touched.update(its_groups)
        return touched

    def _muted(self, alert_id: str, labels: Mapping[str, str], now: datetime) -> bool:
        return alert_id in self._inhibited or any(silence.mutes(labels, now) for silence in self._active)

    def _in_inhibitions(self, labels: Mapping[str, str]) -> bool:
        """Whether an alert with these labels can inhibit or be inhibited (else it changes no mute)."""
        return any(matches_all(rule.source, labels) or matches_all(rule.target, labels) for rule in self._inhibitions)


@dataclass(frozen=True)
class _Decision:
    notification: Notification | None = None
    log: GroupLog | None = None
    next_due: datetime | None = None


def _decide(group: _Group, log: GroupLog | None, muted: Callable[[Alert], bool], now: datetime) -> _Decision:
    firing = sorted((a for a in group.members.values() if a.state is AlertState.FIRING and not muted(a)), key=_order)
    told_ids = log.told_ids if log else set()
    resolved = (
        sorted(
            (a for a in group.members.values() if a.state is AlertState.RESOLVED and a.id in told_ids and not muted(a)),
            key=_order,
        )
        if group.route.send_resolved
        else []
    )
    if not firing and not resolved:
        return _Decision()
    versions = tuple(sorted(_version(alert) for alert in firing))
    reason: Literal["new", "changed", "repeat", "resolved"]
    if log is None or not log.told:
        if not firing:
            return _Decision()
        due = min(alert.first_seen for alert in firing) + group.route.group_wait
        reason = "new"
    elif not set(versions) <= set(log.told) or resolved:
        due = log.sent_at + group.route.group_interval
        reason = "changed" if firing else "resolved"
    else:
        due = log.sent_at + group.route.repeat_interval
        reason = "repeat"
    if now < due:
        return _Decision(next_due=due)
    sequence = log.sequence + 1 if log else 1
    notification = Notification(
        key=_notification_key(group.key, sequence, now, versions),
        receiver=group.route.receiver,
        group_key=group.key,
        group_labels=group.labels,
        reason=reason,
        created_at=now,
        firing=tuple(firing),
        resolved=tuple(resolved),
        route_path=group.route.path,
    )
    written = GroupLog(group.key, group.route.receiver, group.labels, now, sequence, versions)
    return _Decision(notification, written, now + group.route.repeat_interval if firing else None)


def _order(alert: Alert) -> tuple[datetime, str]:
    return (alert.first_seen, alert.id)


def _notification_key(group: str, sequence: int, now: datetime, versions: tuple[str, ...]) -> str:
    material = json.dumps([group, sequence, now.isoformat(), versions], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


_NOTIFICATION_ADAPTER = TypeAdapter(Notification)


def notification_to_json(notification: Notification) -> dict[str, Any]:
    """A plain JSON-compatible dict, e.g. for an outbox row; `notification_from_json` reads it back."""
    dumped: dict[str, Any] = _NOTIFICATION_ADAPTER.dump_python(notification, mode="json")
    return dumped


def notification_from_json(data: dict[str, Any]) -> Notification:
    return _NOTIFICATION_ADAPTER.validate_python(data)
