"""The personal-data rules one by one: numbers in their spellings, names in their contexts, the
pseudonyms, what rejections quote back, JSON (as `duban dlq list` shows it) and log lines."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from duban_ingest.adapters.log_masking import MaskingFilter
from duban_ingest.config import IngestSettings
from duban_ingest.domain import problems
from duban_ingest.domain.privacy import (
    PersonalDataMask,
    find_personal_data,
    id_check_digit,
    mask_personal_data,
    mask_structure,
    masked_echo,
)

KEY = b"rules-test-key-2f8e61c0d94b7a3e5c12"
MASK = PersonalDataMask(KEY)
CODE = re.compile(r"〔[0-9A-F]{4}〕")


def _id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def test_the_check_digit_is_the_one_gb_11643_gives() -> None:
    # The worked example of GB 11643-1999: 11010519491231002X.
    assert id_check_digit("11010519491231002") == "X"


@pytest.mark.parametrize(
    "written",
    [
        _id("51190220140512341"),
        "5119 0219 7803 1523 10",
        "511902-2010-0308-4523",
        "511902 19950818 2217",
        "５１１９０２２００９０６１５２８１Ｘ",
        "51190220081120105x",
        "511902750312152",  # the old 15-digit form
    ],
)
def test_identity_card_numbers_are_masked_in_every_spelling(written: str) -> None:
    assert mask_personal_data(f"学生证件 {written} 已核对") == "学生证件 〔身份证号〕 已核对"


def test_an_eighteen_digit_number_with_a_wrong_check_digit_is_an_id_only_where_the_text_says_so() -> None:
    wrong = "511902201201010014"  # the check digit should be 5
    assert mask_personal_data(f"身份证号 {wrong}") == "身份证号 〔身份证号〕"
    assert mask_personal_data(f"订单 {wrong}") == f"订单 {wrong}"


@pytest.mark.parametrize(
    "written",
    [
        "13981612345",
        "139 8161 2233",
        "138-8271-6543",
        "+86 138-8165-4321",
        "0086 13608271122",
        "１３９８１６１２３４５",
    ],
)
def test_mobile_numbers_are_masked_in_every_spelling(written: str) -> None:
    masked = mask_personal_data(f"家长{written}。")
    assert "〔手机号〕" in masked
    assert not re.search(r"\d", masked)


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("0827-5261234", "〔电话〕"),
        ("028-86123456", "〔电话〕"),
        ("(0827)5256789", "〔电话〕"),
        ("（0827）5256789", "〔电话〕"),
        ("0827－5223300－8012", "〔电话〕－8012"),
        ("0827 5261234转806", "〔电话〕转806"),
    ],
)
def test_landlines_are_masked_with_their_area_code_and_the_extension_kept(written: str, masked: str) -> None:
    assert mask_personal_data(f"办公室{written}") == f"办公室{masked}"


def test_a_bare_seven_digit_number_is_a_phone_only_after_a_phone_word() -> None:
    assert mask_personal_data("联系电话：5262211") == "联系电话：〔电话〕"
    assert mask_personal_data("合同金额 5262211 元") == "合同金额 5262211 元"


def test_numbers_that_are_not_personal_stay() -> None:
    text = "合同金额 12345678 元，在校学生 56789 人，平均分 52.35，代码 20230531001234，巴州教〔2023〕45号"
    assert mask_personal_data(text) == text


def test_two_numbers_in_one_spaced_run_are_told_apart() -> None:
    assert mask_personal_data("2023 13812345678") == "2023 〔手机号〕"


def test_a_card_number_is_masked_after_an_account_word() -> None:
    assert mask_personal_data("银行账号 6228480471234567892") == "银行账号 〔银行卡号〕"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("七年级3班王小红、李强受伤；张小明（男，12岁）送医", ["王小红", "李强", "张小明"]),
        ("学生赵雨萱在鱼塘边落水", ["赵雨萱"]),
        ("姓名：欧阳小明", ["欧阳小明"]),
        ("，王小明同学在操场摔倒", ["王小明"]),
        ("被欺凌者：白雪（女，14岁）", ["白雪"]),
        ("伤者：常乐（男，10岁）", ["常乐"]),
        ("溺亡学生侯宇轩，男，十二岁", ["侯宇轩"]),
        ("四年级（2）班向雨欣被三轮车撞伤", ["向雨欣"]),
        ("田浩宇、邹明轩二人推搡程一诺致其擦伤", ["田浩宇", "邹明轩", "程一诺"]),
        ("张伟和李娜在午休时翻出宿舍", ["张伟", "李娜"]),
        ("舒雅婷的母亲反映孩子被起绰号", ["舒雅婷"]),
        ("对方球员为司徒浩", ["司徒浩"]),
        ("王小红在河边玩耍时溺水身亡。", ["王小红"]),
        ("教师赵 刚，家长李\u3000强", ["赵 刚", "李\u3000强"]),
        ("教师李明（男，35岁）", ["李明"]),
    ],
)
def test_names_are_found_in_context(text: str, names: list[str]) -> None:
    masked = MASK(text)
    assert [n for n in names if n in masked] == []
    assert len(CODE.findall(masked)) >= len(names)


@pytest.mark.parametrize(
    "text",
    [
        "巴中市第二中学、曾口镇中心小学、王家坝村",
        "张家港、李白纪念馆、安全股、体卫艺股",
        "七年级3班王家坝村籍学生较多",
        "学生向家长报告后，家长向学校反映了情况",
        "学生安全教育周，学生家长会，教师节，全体同学，任课老师",
        "曾口、清江、梁永、化成四个片区",
        "关公镇、金碑乡、石城乡、白庙乡",
        "高一新生入学军训，高二、高三年级",
        "近期雷雨天气频发，严防学生到江河湖塘游泳",
        "欧阳修文化研学基地",
        "校长办公会研究决定，由分管副校长牵头",
        "学生在河边游泳溺水，经抢救无效死亡。",
        "张某同学",
        "班主任王老师",
        "做好“晏阳初讲堂”品牌建设",
        "时新小学在扩建，文明校园在创建",
    ],
)
def test_places_schools_sections_and_ordinary_words_are_left_alone(text: str) -> None:
    assert MASK(text) == text


def test_a_name_gets_the_same_code_in_every_text_and_its_given_name_alone_too() -> None:
    first = MASK("学生王晓明在河边落水，晓明的同伴呼救")
    second = MASK("家长称王晓明同学已出院")
    codes = CODE.findall(first) + CODE.findall(second)
    assert len(codes) == 3
    assert len(set(codes)) == 1
    assert first.startswith("学生王某〔")


def test_different_people_and_different_secrets_give_different_codes() -> None:
    assert MASK("学生王晓明") != MASK("学生王晓红")
    assert PersonalDataMask(b"another-key-0c4d1e9b7a2f6e3d8c5b")("学生王晓明") != MASK("学生王晓明")


def test_the_code_is_keyed_by_the_name_as_normalised() -> None:
    assert CODE.findall(MASK("学生王晓明溺水")) == CODE.findall(MASK("姓名：王晓明"))


def test_without_a_secret_a_name_is_only_the_surname_and_mou() -> None:
    assert mask_personal_data("学生王晓明溺水") == "学生王某溺水"


def test_findings_say_what_they_are_and_where() -> None:
    text = "家长李四电话13800138000"
    found = [(text[f.start : f.end], f.kind) for f in find_personal_data(text)]
    assert found == [("李四", "name"), ("13800138000", "mobile")]


def test_an_echoed_value_is_masked_before_it_is_cut_so_a_number_at_the_cut_does_not_leak() -> None:
    value = "情" * 195 + "13981612345" + "况" * 100
    echoed = masked_echo(value)
    assert echoed is not None
    assert len(echoed) == 200
    assert "1398" not in echoed


def test_every_rejection_quotes_its_value_masked() -> None:
    value = "学生王晓明，家长电话13981612345，身份证511902201405123417" + "。" * 3000
    for problem in (
        problems.too_long("摘要", value, len(value), 2000),
        problems.invalid_number("数值", "13981612345"),
        problems.unknown_unit("单位", "学生王晓明家", ()),
    ):
        shown = " ".join(filter(None, (problem.value, problem.message_zh, problem.message_en)))
        assert "13981612345" not in shown
        assert "511902201405123417" not in shown
        assert "王晓明" not in shown


def test_json_is_masked_value_by_value_with_its_keys_as_labels() -> None:
    body = {
        "姓名": "王小红",
        "电话": 13981612345,
        "summary": "学生李强溺水",
        "count": 3,
        "nested": [{"联系人": "赵四"}],
    }
    assert mask_structure(body) == {
        "姓名": "王某",
        "电话": "〔手机号〕",
        "summary": "学生李某溺水",
        "count": 3,
        "nested": [{"联系人": "赵某"}],
    }


def test_a_log_line_is_masked_with_its_arguments_and_traceback() -> None:
    try:
        raise ValueError("bad summary 学生王小红 13981612345")
    except ValueError as error:
        record = logging.LogRecord(
            "duban", logging.ERROR, __file__, 1, "failed on %s", ("家长电话13981612345",), (ValueError, error, None)
        )
    assert MaskingFilter().filter(record)
    rendered = logging.Formatter().format(record)
    assert "13981612345" not in rendered
    assert "王小红" not in rendered
    assert "〔手机号〕" in rendered


def test_production_refuses_a_missing_short_or_placeholder_secret(tmp_path: Path) -> None:
    for secret in (None, "short", "CHANGE-ME-CHANGE-ME-CHANGE-ME-CHANGE-ME", "0" * 40):
        with pytest.raises(ValidationError, match="DUBAN_PRIVACY_SECRET"):
            IngestSettings(home=tmp_path, environment="production", privacy_secret=secret)
    real = "9f3c6a1e0b7d42c58e1f6a3b9d0c7e2a"
    assert IngestSettings(home=tmp_path, environment="production", privacy_secret=real).privacy_key() == real.encode()


def test_development_generates_a_secret_once_per_home_and_keeps_it(tmp_path: Path) -> None:
    first = IngestSettings(home=tmp_path).privacy_key()
    again = IngestSettings(home=tmp_path).privacy_key()
    elsewhere = IngestSettings(home=tmp_path / "other").privacy_key()
    assert len(first) == 64
    assert first == again
    assert first != elsewhere
    assert (tmp_path / "var" / "privacy-secret").stat().st_mode & 0o077 == 0


def test_a_long_run_of_spaced_digits_is_read_group_by_group() -> None:
    # Every span of up to 19 digits is tried, not every span: a hostile `1 1 1 …` stays cheap.
    assert mask_personal_data("1 " * 1000 + "13812345678") == "1 " * 1000 + "〔手机号〕"
