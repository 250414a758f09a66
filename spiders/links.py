"""What a link points at: a report (detail page), an attachment, or something to ignore."""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

#: File links worth archiving from a detail page.
ATTACHMENT_RE = re.compile(
    r"\.(pdf|docx?|wps|xlsx?|et|ofd|zip|rar)(?:$|[?#&])"
    r"|/module/download/downfile\.jsp"
    r"|/download(?:file)?\.(?:jsp|do|aspx?)\?",
    re.IGNORECASE,
)
#: Link text / title of a report.
REPORT_TEXT_RE = re.compile(r"年报|年度报告|年度工作报告|政府信息公开.*报告|信息公开.*工作.*报告")
#: URL of a report (pinyin column names seen on portals).
REPORT_URL_RE = re.compile(r"(zfxxgk)?(nb|ndbg|gknb|nianbao)\b|年报|年度报告", re.IGNORECASE)
#: Detail-page URL shapes of the CMS families.
DETAIL_URL_RE = re.compile(
    r"/t\d{8}_\d+\.s?html?$"            # TRS ./202401/t20240119_1234567.html
    r"|/art_\d+_\d+(\.html)?$"           # Hanweb /art/2024/1/19/art_1229_123.html
    r"|/\d{6}/[0-9a-f]{32}\.s?html$"     # 沭阳-style /gknb/202401/<32 hex>.shtml
    r"|/info/\d+/\d+\.htm$"             # VSB 博达 /info/1025/61695.htm
    r"|/post_\d+\.html$"                 # gkmlpt /gkmlpt/content/4/4688/post_4688997.html
    r"|/(Xxgk|Openness)AnnualReport/show/\d+\.html$"  # Anhui annual-report module
    r"|/public/\d+/\d+\.html$",         # Anhui /public/<col>/<id>.html
    re.IGNORECASE,
)
NOT_REPORT_TEXT_RE = re.compile(r"指南|目录$|上一页|下一页|首页|尾页|^\s*\d+\s*$|解读")
NEXT_TEXT_RE = re.compile(r"^\s*(下一页|下页|后一页|next\s*(page)?|>)\s*$", re.IGNORECASE)
#: List/column pages (never report pages): directory URLs, index.html, index_2.shtml, list.shtml...
LIST_URL_RE = re.compile(r"(/|/(index|list|default)(_\d+)?\.[a-z]+)$", re.IGNORECASE)
YEAR_RE = re.compile(r"(20\d{2})\s*年")
#: A sub-column: a folder, its index/list page, a Hanweb column, a gkmlpt list.
SUB_COLUMN_URL_RE = re.compile(r"(/|/(index|list|default)(_\d+)?\.[a-z]+|/col/col\d+/index\.html)$", re.IGNORECASE)
_URL_SKIP = ("javascript:", "mailto:", "tel:", "#")


def is_sub_column_url(url: str) -> bool:
    return bool(SUB_COLUMN_URL_RE.search(urlsplit(url).path or "/"))


def is_fetchable(url: str) -> bool:
    return bool(url) and not url.strip().lower().startswith(_URL_SKIP) and \
        urlsplit(url).scheme in ("http", "https")


def is_attachment(url: str) -> bool:
    return bool(ATTACHMENT_RE.search(url))


def looks_like_report(text: str, url: str) -> bool:
    """A link to a report: its text says so (年报, 年度报告, 政府信息公开…报告). Only a link with
    no text at all (an image, an icon) is judged by its URL (detail-page shapes, 年报 in the path)."""
    text = " ".join((text or "").split())
    if LIST_URL_RE.search(urlsplit(url).path or "/"):  # the column itself, from the nav bar
        return False
    if text:
        return bool(REPORT_TEXT_RE.search(text)) and not NOT_REPORT_TEXT_RE.search(text)
    path = unquote(urlsplit(url).path)
    return bool(DETAIL_URL_RE.search(path) or REPORT_URL_RE.search(path))


def report_year(text: str) -> int | None:
    """The year a report is about, from its link text ('2023年政府信息公开工作年度报告')."""
    m = YEAR_RE.search(text or "")
    return int(m.group(1)) if m else None


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


# ------------------------------------------------------------------ images inside a report page
# Some portals paste the report's tables into the article as pictures. A detail page's <img>
# is fetched when a TABLE_IMAGE_URL pattern matches its URL and no DECORATION pattern matches
# the attribute it names; a width or height attribute below MIN_TABLE_IMAGE_PX is decoration too.

#: URL shapes of a picture that can carry a table: an image file, or an extension-less
#: file under an upload path of the CMS families.
TABLE_IMAGE_URL = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"\.(png|jpe?g|gif|bmp)(?:$|[?#&])",
    r"/(upload|uploads|uploadfile|uploadfiles|upfiles|attach|attachment|attachments|picture|pic)/[^?#]*/[^./?#]+(?:$|[?#])",
    r"/module/download/downfile\.jsp\?.*\.(png|jpe?g|gif|bmp)",
))
#: (attribute, pattern): an image whose attribute matches is page chrome, never a table.
DECORATION = tuple((attr, re.compile(p, re.IGNORECASE)) for attr, p in (
    ("src", r"(?:^|[/_.-])(logo|icon|ico|btn|button|banner|qrcode|ewm|erweima|share|print|close|arrow|"
            r"bullet|dot|spacer|blank|bg|line|search|nav|top|foot(?:er)?|weibo|weixin|wechat)(?:[/_.-]|\d|$)"),
    ("class", r"logo|icon|btn|button|banner|qrcode|share|nav"),
    ("id", r"logo|icon|btn|button|banner|qrcode|share"),
    ("alt", r"logo|图标|标志|二维码|扫一扫|打印|关闭|分享|返回"),
))
#: Tables are wide: a width or height attribute smaller than this (16, "120px") is an icon.
MIN_TABLE_IMAGE_PX = 200
#: Where the picture's URL is (lazy-loading pages put it in data-src / data-original).
IMAGE_SRC_ATTRS = ("data-original", "data-src", "src")
_PX = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$", re.IGNORECASE)


def image_src(attrs: dict[str, str]) -> str:
    return next((attrs[a].strip() for a in IMAGE_SRC_ATTRS if (attrs.get(a) or "").strip()), "")


def is_table_image(url: str, attrs: dict[str, str]) -> bool:
    """An <img> (absolute `url`, its attributes) that may hold a table: fetchable, image-shaped,
    not decoration by name/class/id/alt, not sized below `MIN_TABLE_IMAGE_PX`."""
    if not is_fetchable(url) or not any(p.search(url) for p in TABLE_IMAGE_URL):
        return False
    path = unquote(urlsplit(url).path)
    values = {**attrs, "src": path}
    if any(p.search(values.get(attr) or "") for attr, p in DECORATION):
        return False
    sizes = [_PX.match(attrs.get(k) or "") for k in ("width", "height")]
    return not any(m and float(m.group(1)) < MIN_TABLE_IMAGE_PX for m in sizes)
