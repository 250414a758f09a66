"""Volatile parts of report pages: what is normalised before change detection, and what never is."""
from __future__ import annotations

from pathlib import Path

from harvester.volatile import content_hash, normalize

YAODU = (Path(__file__).resolve().parents[1] / "harvester" / "demo" / "portals" / "yaodu-col1229" / "www.yaodu.gov.cn"
         / "art" / "2024" / "1" / "22" / "art_1229_3456789.html").read_bytes()


def page(extra: str, body: bytes = YAODU) -> bytes:
    return body.replace(b"</body>", extra.encode("utf-8") + b"</body>")


def test_view_counters_clocks_sessions_csrf_and_cache_busters_do_not_change_the_hash():
    a = page('<p>浏览次数：<span id="hits">12</span> 今天是2024年1月22日 星期一</p>'
             '<a href="/col/col1229/index.html;jsessionid=A1B2C3">返回</a>'
             '<meta name="csrf-token" content="tok-1"><input type="hidden" name="_csrf" value="v1">'
             '<script src="/js/app.js?v=1705900000"></script><span id="visitcount">7</span>'
             '<a href="/list.jsp?sid=abcdef123">列表</a>')
    b = page('<p>浏览次数：<span id="hits">3,456</span> 今天是2024年3月2日 星期六</p>'
             '<a href="/col/col1229/index.html;jsessionid=ZZ99">返回</a>'
             '<meta name="csrf-token" content="tok-2"><input type="hidden" name="_csrf" value="v2">'
             '<script src="/js/app.js?v=1709900000"></script><span id="visitcount">8</span>'
             '<a href="/list.jsp?sid=zzz999">列表</a>')
    assert a != b
    assert content_hash(a, "text/html") == content_hash(b, "text/html")


def test_a_changed_number_in_the_report_changes_the_hash():
    row = b"<td>18</td><td>7</td>"
    assert row in YAODU
    changed = YAODU.replace(row, b"<td>19</td><td>7</td>")
    assert content_hash(changed, "text/html") != content_hash(YAODU, "text/html")


def test_numbers_next_to_ordinary_words_are_left_alone():
    text = "本年度接待群众咨询1200人次，公开政府信息25条。发布时间：2024-01-22"
    assert normalize(text) == text


def test_cms_specific_rules_apply_only_to_their_family():
    text = "<!--页面生成时间 2024-01-22 10:31:07--><p>x</p>"
    assert normalize(text, "hanweb") == "<p>x</p>"
    assert normalize(text, "trs") == text


def test_attachments_are_compared_by_their_raw_bytes():
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Title (2024) >>\n"
    import hashlib

    assert content_hash(pdf, "application/pdf") == hashlib.sha256(pdf).hexdigest()
