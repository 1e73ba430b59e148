from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from duban_reports.rendering import render
from tests.reports.report_samples import sample_report

pytestmark = pytest.mark.slow

_TOOLS = ("pdftotext", "pdftoppm")


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    """The sample rendered once for this module (read-only): laying out CJK text takes seconds."""
    return render(sample_report(), "pdf")


@pytest.fixture
def pdf_file(pdf_bytes: bytes, tmp_path: Path) -> Path:
    if any(shutil.which(tool) is None for tool in _TOOLS):
        pytest.skip("poppler-utils (pdftotext, pdftoppm) is not installed")
    path = tmp_path / "2023-Q2_quarterly.pdf"
    path.write_bytes(pdf_bytes)
    return path


def test_pdf_text_holds_the_chinese_headings_and_figures(pdf_file: Path) -> None:
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf_file), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = "".join(text.split())

    for expected in (
        "巴州区教育科技和体育局",
        "2023年第二季度工作计划执行情况报告",
        "一、总体情况",
        "二、分领域推进情况",
        "三、滞后、逾期及未达标事项",
        "四、校园安全与传染病疫情",
        "五、信访维稳",
        "六、数据报送情况",
        "七、趋势",
        "附件：全部指标明细",
        "1.54万平方米",
        "7.02万人次",
        "计划总体完成率53.8%",
        "逾期未完成",
    ):
        assert expected in flat, expected


def test_pdf_embeds_the_noto_cjk_fonts(pdf_file: Path) -> None:
    fonts = subprocess.run(["pdffonts", str(pdf_file)], check=True, capture_output=True, text=True).stdout

    assert "Noto-Sans-CJK-SC" in fonts
    assert "Noto-Serif-CJK-SC" in fonts


def test_pdf_first_page_is_not_blank(pdf_file: Path) -> None:
    tmp_path = pdf_file.parent
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(pdf_file), str(tmp_path / "page")],
        check=True,
    )

    with Image.open(tmp_path / "page.png") as page:
        width, height = page.size
        inked = sum(page.convert("L").histogram()[:200])  # pixels darker than light grey
    assert width > 300
    assert inked > 0.01 * width * height


def test_pdf_is_a_whole_pdf_file(pdf_bytes: bytes) -> None:
    assert pdf_bytes.startswith(b"%PDF-")
    assert pdf_bytes.rstrip().endswith(b"%%EOF")
