"""Casework vocabulary as submissions write it: channels, actions and satisfaction ratings.

A `case` submission reports one action on a 信访 case or a 12345 work order (task 25 of the plan).
The canonical values are those of `duban_contracts.casework`; the spellings here are what a 信访
office's ledger (信访台账) or a 12345 platform export writes for them. A spelling not listed is
refused with the accepted ones (`invalid_choice`), never guessed: a wrong action would start or stop
a legal time limit.
"""

from __future__ import annotations

from duban_contracts.casework import CaseAction, CaseChannel, Satisfaction

from .text import compact

_CHANNEL_SPELLINGS: dict[CaseChannel, tuple[str, ...]] = {
    CaseChannel.LETTER: ("来信", "信件", "书信", "letter"),
    CaseChannel.VISIT: ("来访", "走访", "上访", "visit"),
    CaseChannel.ONLINE: ("网上信访", "网信", "网络信访", "网上投诉", "online"),
    CaseChannel.HOTLINE: ("12345", "12345热线", "市民热线", "政务服务热线", "热线", "hotline"),
    CaseChannel.ASSIGNED: ("上级交办", "交办", "交办件", "上级转办", "assigned"),
}
_ACTION_SPELLINGS: dict[CaseAction, tuple[str, ...]] = {
    CaseAction.RECEIVED: ("received", "登记", "收件", "接收", "受理登记"),
    CaseAction.ACCEPTED: ("accepted", "受理", "予以受理"),
    CaseAction.FORWARDED: ("forwarded", "转送", "转办", "转交"),
    CaseAction.EXTENDED: ("extended", "延期", "延长办理期限", "申请延期"),
    CaseAction.CONCLUDED: ("concluded", "办结", "答复", "出具意见", "已办结"),
    CaseAction.REVISITED: ("revisited", "回访", "满意度回访"),
    CaseAction.RESOLVED: ("resolved", "化解", "已化解", "息诉罢访"),
}
_SATISFACTION_SPELLINGS: dict[Satisfaction, tuple[str, ...]] = {
    Satisfaction.SATISFIED: ("满意", "非常满意", "satisfied"),
    Satisfaction.BASICALLY_SATISFIED: ("基本满意", "比较满意", "basically_satisfied"),
    Satisfaction.DISSATISFIED: ("不满意", "dissatisfied"),
}

_CHANNELS = {compact(s): value for value, spellings in _CHANNEL_SPELLINGS.items() for s in spellings}
_ACTIONS = {compact(s): value for value, spellings in _ACTION_SPELLINGS.items() for s in spellings}
_RATINGS = {compact(s): value for value, spellings in _SATISFACTION_SPELLINGS.items() for s in spellings}

CHANNEL_NAMES: tuple[str, ...] = tuple(channel.value for channel in CaseChannel)
ACTION_NAMES: tuple[str, ...] = tuple(f"{action.value}/{action.label_zh}" for action in CaseAction)
SATISFACTION_NAMES: tuple[str, ...] = tuple(rating.value for rating in Satisfaction)


def parse_channel(written: str) -> CaseChannel | None:
    return _CHANNELS.get(compact(written))


def parse_action(written: str) -> CaseAction | None:
    return _ACTIONS.get(compact(written))


def parse_satisfaction(written: str) -> Satisfaction | None:
    return _RATINGS.get(compact(written))
