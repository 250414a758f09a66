"""CMS families: how a portal's 年报 column lists its reports and pages through them.

Each family is a small strategy with two methods used on every list response:

- `links(response, portal)` -> [(absolute url, link text)] candidate report links;
- `pages(response, portal)` -> [Request] further list pages (the spider's `parse_list`
  is their callback, whatever their format).

and one attribute used on detail pages:

- `content`: CSS of the article container (where a report page pastes table images);
  `selectors.content` of a portal overrides it, the page body is the fallback.

Detail pages and attachments are the same for every family (see `PortalSpider`).
"""
from __future__ import annotations

import json
import logging
import math
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy import FormRequest, Request
from scrapy.http import TextResponse

from harvester.spiders.links import NEXT_TEXT_RE

Link = tuple[str, str]
logger = logging.getLogger(__name__)


def _anchors(sel: Selector, base: str, css: str = "a[href]") -> list[Link]:
    out = []
    for a in sel.css(css):
        if a.root.tag != "a":  # a selector pointing at <li>: take the links inside
            out += _anchors(a, base)
            continue
        href = (a.attrib.get("href") or "").strip()
        if not href:
            continue
        text = " ".join(" ".join(a.css("::text").getall()).split()) or a.attrib.get("title", "")
        if a.attrib.get("title") and a.attrib["title"] not in text:
            text = f"{text} {a.attrib['title']}".strip()
        out.append((urljoin(base, href), text))
    return out


class Generic:
    """Any portal: report links are anchors; next pages are 下一页 links (or `selectors.next_page`)."""

    name = "generic"
    content = ("div.TRS_Editor, #UCAP-CONTENT, ucapcontent, #zoom, #Zoom, div.zoom, div.article-content, "
               "div.article_content, div.article, div.content, #content, article")

    def links(self, response: TextResponse, portal) -> list[Link]:
        css = portal.selectors.list_item or "a[href]"
        return _anchors(response.selector, response.url, css)

    def pages(self, response: TextResponse, portal) -> list[Request]:
        urls = []
        if portal.selectors.next_page:
            for el in response.css(portal.selectors.next_page):
                hrefs = [el.attrib["href"]] if el.attrib.get("href") else el.css("a::attr(href)").getall()
                urls += [urljoin(response.url, h) for h in hrefs]
        else:
            for a in response.css("a[href]"):
                if NEXT_TEXT_RE.match(" ".join(a.css("::text").getall())):
                    urls.append(urljoin(response.url, a.attrib["href"]))
        return [Request(u) for u in urls]


class Trs(Generic):
    """TRS WCM static lists: index.html, index_1.html ... index_{N-1}.html, where N comes from a
    `createPageHTML(N, current, "index", "html")` call or a `var countPage = N` script."""

    name = "trs"
    content = "div.TRS_Editor, .TRS_Editor, #zoom, #Zoom"
    _CALL = re.compile(r"createPageHTML\(\s*['\"]?(\w+)['\"]?\s*,\s*['\"]?(\w+)['\"]?\s*,"
                       r"\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")
    _VAR = r"\b{}\s*=\s*['\"]?(\d+)"

    def pages(self, response: TextResponse, portal) -> list[Request]:
        reqs = super().pages(response, portal)
        script = "\n".join(response.xpath("//script/text()").getall())
        m = self._CALL.search(script)
        if not m:
            return reqs
        count, _current, prefix, suffix = m.groups()
        if not count.isdigit():
            v = re.search(self._VAR.format(re.escape(count)), script)
            count = v.group(1) if v else "1"
        base = urljoin(response.url, "./")
        for n in range(int(count)):
            name = f"{prefix}.{suffix}" if n == 0 else f"{prefix}_{n}.{suffix}"
            reqs.append(Request(urljoin(base, name)))
        return reqs


class Hanweb(Generic):
    """Hanweb (大汉) jcms: a column page /col/colNNNN/index.html carries the first records
    inline (`<datastore><recordset><record><![CDATA[<li>…]]>`); all records come from
    POST /module/web/jpage/dataproxy.jsp?startrecord=A&endrecord=B&perpage=P, which
    answers the same XML plus `<totalrecord>`.

    Other jcms columns render each page of their list module (`<div id="<uid>">`, plain `<li>`
    links) on the server as `index.html?uid=<uid>&pageNum=N`. Their pager is written by a script
    (`document.write`), so its 下一页/尾页 anchors are no DOM links a generic crawl could follow, and
    首页/上一页 are often `javascript:`. What the script text does carry is the uid, the record count
    (`共<span>57</span>条`, `totalRecord = 57`) and/or the page count (`1/3页`, `共3页`,
    `totalPage = 3`). So the column page asks for pages 2..N at once, N from the page count, else
    ceil(records / per page) (per page: `每页N条`/`perPage`, else the items listed on the page); the
    pages it asked for ask nothing more. A missing or short count is tolerated: a page whose next
    page (`?uid=…&pageNum=current+1`) is linked beyond what was asked follows that link, one page at
    a time. Never more than `MAX_PAGES`; a page that does not exist is a recorded list error."""

    name = "hanweb"
    content = "#zoom, #Zoom, div.zoom, div.bt-content, div.main-txt, #content"
    DATAPROXY = "/module/web/jpage/dataproxy.jsp"
    _RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
    _NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S)
    _TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
    _COL = re.compile(r"/col/col(\d+)/")
    _PERPAGE = re.compile(r"\bperpage\s*[:=]\s*['\"]?(\d+)", re.I)

    #: uid/pageNum paging: a pager link (`?uid=2653861&pageNum=2`, either order, `&amp;` too), or the
    #: pager script's uid variable (naming an element of the page); the page count; the record count;
    #: the page size.
    _UID_LINK = re.compile(r"\buid=([\w-]+)(?:&amp;|&)pageNum=(\d+)|\bpageNum=(\d+)(?:&amp;|&)uid=([\w-]+)")
    _UID_VAR = re.compile(r"\buid\s*[:=]\s*['\"]?([\w-]+)")
    _TAGS = r"\s*(?:<[^>]*>\s*)*"  # `共<span>57</span>条`
    _PAGE_COUNT = (re.compile(r"\d+\s*/\s*(\d+)\s*页"), re.compile(rf"共{_TAGS}(\d+){_TAGS}页"),
                   re.compile(r"\b(?:totalPage|pageCount|totalPages)\s*[:=]\s*['\"]?(\d+)", re.I))
    _RECORD_COUNT = (re.compile(rf"共{_TAGS}(\d+){_TAGS}条"),
                     re.compile(r"\b(?:totalRecord|totalCount|recordCount)\s*[:=]\s*['\"]?(\d+)", re.I))
    _PAGE_SIZE = (re.compile(rf"每页{_TAGS}(\d+){_TAGS}条"), re.compile(r"\b(?:perPage|pageSize)\s*[:=]\s*['\"]?(\d+)", re.I))
    _ART = re.compile(r"/art/\d{4}/")
    #: Never ask for more pages of one column than this (a pager claiming 99999 pages is broken).
    MAX_PAGES = 500

    ANNUAL = "/module/xxgk/xxgkAnnualReport.jsp"
    _SELECT = re.compile(r"<select[^>]*\b(?:name|id)=['\"]?(area|fbtime)['\"]?[^>]*>(.*?)</select>", re.S | re.I)
    _OPTION = re.compile(r"<option[^>]*value=['\"]?([\w-]+)['\"]?[^>]*>([^<]*)", re.I)

    def annual_reports(self, response: TextResponse) -> list[Link]:
        """The Zhejiang/Shandong annual-report module: a page whose `area` (unit code) and `fbtime`
        (year) selects feed `xxgkAnnualReport.jsp?area=…&fbtime=…`: one report per unit × year."""
        if self.ANNUAL not in response.text:
            return []
        options = {name.lower(): self._OPTION.findall(body) for name, body in self._SELECT.findall(response.text)}
        units = [(v, t.strip()) for v, t in options.get("area", []) if v]
        years = [v for v, _ in options.get("fbtime", []) if v.isdigit()]
        show = re.search(r"showType=(\d+)", response.text)
        out = []
        for code, unit in units:
            for year in years:
                query = {"area": code, "fbtime": year, **({"showType": show.group(1)} if show else {})}
                out.append((urljoin(response.url, f"{self.ANNUAL}?{urlencode(query)}"),
                            f"{unit}{year}年政府信息公开工作年度报告"))
        return out

    def links(self, response: TextResponse, portal) -> list[Link]:
        annual = self.annual_reports(response)
        if annual:
            return annual
        records = self._RECORD.findall(response.text)
        if not records:  # a uid/pageNum pager's own links are pages (see `pages`), not sub-columns
            return [(u, t) for u, t in super().links(response, portal) if not self._is_uid_page(u)]
        out: list[Link] = []
        for rec in records:
            out += _anchors(Selector(text=rec), response.url)
        return out

    def pages(self, response: TextResponse, portal) -> list[Request]:
        if self.DATAPROXY in urlsplit(response.url).path:
            return self._next_window(response)
        uid_pages = self._uid_pages(response)
        if uid_pages is not None:
            return uid_pages
        params = self._params(response)
        if params is None:
            return super().pages(response, portal)
        perpage = int(m.group(1)) if (m := self._PERPAGE.search(response.text)) else 15
        return [self._window(response.url, params, 1, perpage * 3, perpage)]

    # ------------------------------------------------------------ index.html?uid=<uid>&pageNum=N
    @staticmethod
    def _is_uid_page(url: str) -> bool:
        query = dict(parse_qsl(urlsplit(url).query))
        return "uid" in query and "pageNum" in query

    def _uid_pages(self, response: TextResponse) -> list[Request] | None:
        """Further pages of a uid/pageNum column (see the class docstring); None for another page."""
        text = response.text
        if "pageNum" not in text:
            return None
        linked = [(m.group(1) or m.group(4), int(m.group(2) or m.group(3))) for m in self._UID_LINK.finditer(text)]
        var = self._UID_VAR.search(text)
        uid = linked[0][0] if linked else (var.group(1) if var else None)
        if uid is None or (not linked and not response.css(f'[id="{uid}"]')):  # a bare `uid` names the list module
            return None
        query = dict(parse_qsl(urlsplit(response.url).query))
        here = int(query["pageNum"]) if query.get("uid") == uid and query.get("pageNum", "").isdigit() else 1
        asked: int | None = response.meta.get("hanweb_uid_last")
        numbers: list[int] = []
        if asked is None:  # the column page: every page its count names
            count = self._page_count(response, uid) or here
            if count > self.MAX_PAGES:
                logger.warning("%s: pager claims %d pages, asking for the first %d", response.url, count,
                               self.MAX_PAGES)
            asked = min(count, self.MAX_PAGES)
            numbers = list(range(here + 1, asked + 1))
        following = here + 1  # an explicit next page beyond what was asked: the count is missing or short
        if following > asked and following <= self.MAX_PAGES and any(n == following for u, n in linked if u == uid):
            numbers.append(following)
            asked = following
        path = urlsplit(response.url).path
        path += "index.html" if path.endswith("/") else ""
        return [Request(urljoin(response.url, f"{path}?{urlencode({'uid': uid, 'pageNum': n})}"),
                        meta={"hanweb_uid_last": asked}) for n in numbers]

    def _page_count(self, response: TextResponse, uid: str) -> int | None:
        """The pager's page count, else ceil(record count / page size)."""
        text = response.text
        for pattern in self._PAGE_COUNT:
            if m := pattern.search(text):
                return int(m.group(1))
        total = next((int(m.group(1)) for p in self._RECORD_COUNT if (m := p.search(text))), None)
        if total is None:
            return None
        size = next((int(m.group(1)) for p in self._PAGE_SIZE if (m := p.search(text))), 0)
        size = size or len(response.css(f'[id="{uid}"] li')) or \
            sum(1 for a in response.css("a[href]") if self._ART.search(a.attrib["href"]))
        return math.ceil(total / size) if size else None

    def _params(self, response: TextResponse) -> dict[str, str] | None:
        text = response.text
        params: dict[str, str] = {}
        ng = self._NEXTGROUP.search(text)
        if ng:
            href = Selector(text=ng.group(1)).css("a::attr(href)").get() or ""
            params.update(parse_qsl(urlsplit(href).query))
        for key in ("webid", "unitid", "columnid", "appid"):
            if key not in params:
                m = re.search(rf"\b{key}\s*[=:]\s*['\"]?(\d+)", text)
                if m:
                    params[key] = m.group(1)
        if "columnid" not in params:
            m = self._COL.search(urlsplit(response.url).path)
            if not m:
                return None
            params["columnid"] = m.group(1)
        if "unitid" not in params:
            return None
        return {"col": "1", "appid": params.get("appid", "1"), "webid": params.get("webid", "1"),
                "path": params.get("path", "/"), "columnid": params["columnid"], "sourceContentType": "1",
                "unitid": params["unitid"], "webname": params.get("webname", ""),
                "permissiontype": params.get("permissiontype", "0")}

    def _window(self, base: str, params: dict[str, str], start: int, end: int, perpage: int) -> Request:
        url = urljoin(base, f"{self.DATAPROXY}?startrecord={start}&endrecord={end}&perpage={perpage}")
        return FormRequest(url, formdata=params, meta={"hanweb_params": params})

    def _next_window(self, response: TextResponse) -> list[Request]:
        m = self._TOTAL.search(response.text)
        q = dict(parse_qsl(urlsplit(response.url).query))
        params = response.meta.get("hanweb_params")
        if not m or not params or not q.get("endrecord", "").isdigit():
            return []
        total, end = int(m.group(1)), int(q["endrecord"])
        if end >= total:
            return []
        perpage = int(q.get("perpage", 15))
        return [self._window(response.url, params, end + 1, end + perpage * 3, perpage)]


class Gkmlpt(Generic):
    """Guangdong 政府信息公开目录管理平台: `/gkmlpt/index` or `/gkmlpt/annualreport` carries
    `window._CONFIG = {SID: …, TREE: [{id, name, children…}]}`; a category lists as JSON from
    `/gkmlpt/api/all/{category}?page={n}&sid={sid}` -> `{total, articles: [{title, url, …}]}`.
    The category is `params.category`, else the TREE node named 年报/年度报告; SID is
    `params.sid`, else the page's. A column without `_CONFIG` (a static list) pages generically."""

    name = "gkmlpt"
    content = "div.article-content, div.content, div.zw, #zoom"
    API = "/gkmlpt/api/all/"
    _SID = re.compile(r"\bSID\s*[:=]\s*['\"]?(\w+)")
    _NODE = re.compile(r"[\"']?id[\"']?\s*:\s*['\"]?(\d+)['\"]?\s*,\s*[\"']?name[\"']?\s*:\s*['\"]([^'\"]+)")

    def _api(self, response: TextResponse) -> dict | None:
        if self.API not in urlsplit(response.url).path:
            return None
        try:
            data = json.loads(response.text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def links(self, response: TextResponse, portal) -> list[Link]:
        data = self._api(response)
        if data is None:
            return super().links(response, portal)
        return [(urljoin(response.url, a["url"]), a.get("title") or "") for a in data.get("articles") or []
                if isinstance(a, dict) and a.get("url")]

    def pages(self, response: TextResponse, portal) -> list[Request]:
        data = self._api(response)
        if data is not None:
            q = dict(parse_qsl(urlsplit(response.url).query))
            # page size = the first page's article count (the last page is shorter)
            page, per = int(q.get("page", 1)), response.meta.get("gkmlpt_per") or len(data.get("articles") or [])
            if not per or page * per >= int(data.get("total") or 0):
                return []
            q["page"] = str(page + 1)
            return [Request(urljoin(response.url, f"{urlsplit(response.url).path}?{urlencode(q)}"),
                            meta={"gkmlpt_per": per})]
        if "_CONFIG" not in response.text:
            return super().pages(response, portal)
        sid_m = self._SID.search(response.text)
        sid = portal.param("sid") or (sid_m.group(1) if sid_m else None)
        category = portal.param("category") or urlsplit(response.url).fragment or None
        if category is None:
            category = next((cid for cid, name in self._NODE.findall(response.text)
                             if re.search(r"年报|年度报告", name)), None)
        if not sid or not category:
            return super().pages(response, portal)
        return [Request(urljoin(response.url, f"{self.API}{category}?page=1&sid={sid}"))]


class FjSearch(Trs):
    """Fujian portals (TRS front end) answer a whole-site JSON search: `POST /fjdzapp/search` with
    `channelid=…&sortfield=-pubdate&page=N&prepage=500` -> `{pageCount, data: [{docpuburl,
    doctitle, pubdate, puborg}]}`. channelid is `params.channelid`, else the column page's
    `channelid` script variable; without one the column pages as TRS."""

    name = "fjsearch"
    SEARCH = "/fjdzapp/search"
    PER_PAGE = 500
    _CHANNEL = re.compile(r"\bchannel_?id\s*[:=]\s*['\"]?(\d+)", re.I)

    def _search(self, response: TextResponse) -> dict | None:
        if urlsplit(response.url).path != self.SEARCH:
            return None
        try:
            data = json.loads(response.text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def links(self, response: TextResponse, portal) -> list[Link]:
        data = self._search(response)
        if data is None:
            return super().links(response, portal)
        return [(urljoin(response.url, d["docpuburl"]), d.get("doctitle") or "") for d in data.get("data") or []
                if isinstance(d, dict) and d.get("docpuburl")]

    def _request(self, base: str, channel: str, page: int) -> Request:
        form = {"channelid": channel, "sortfield": "-pubdate", "page": str(page), "prepage": str(self.PER_PAGE)}
        return FormRequest(urljoin(base, self.SEARCH), formdata=form, meta={"fj_channel": channel, "fj_page": page},
                           dont_filter=False)

    def pages(self, response: TextResponse, portal) -> list[Request]:
        data = self._search(response)
        if data is not None:
            page = int(response.meta.get("fj_page", 1))
            if page >= int(data.get("pageCount") or 1):
                return []
            return [self._request(response.url, response.meta["fj_channel"], page + 1)]
        m = self._CHANNEL.search(response.text)
        channel = portal.param("channelid") or (m.group(1) if m else None)
        if not channel:
            return super().pages(response, portal)
        return [self._request(response.url, channel, 1)]


class Vsb(Generic):
    """VSB 博达: lists `/<col>.htm`, then `/<col>/N.htm` counting down (下页 / 尾页 links);
    details `/info/<col>/<id>.htm` with the text in `#vsb_content` / `.v_news_content`."""

    name = "vsb"
    content = "#vsb_content, #vsb_content_2, div.v_news_content, #vsb_newscontent"


class Ucap(Trs):
    """`.shtml` portals with 32-hex document ids (`/<col>/YYYYMM/<hex>.shtml`; 开普云/UCAP-style):
    paging by `createPageHTML`-style scripts or 下一页 links; text in `#UCAP-CONTENT`."""

    name = "ucap"
    content = "#UCAP-CONTENT, ucapcontent, div.ucap-content, div.article, #zoom"


class Anhui(Generic):
    """Anhui 集约化 portals: the annual-report module `/XxgkAnnualReport/` (or
    `/openness/OpennessAnnualReport/`) lists one report per unit × year as `show/<id>.html`
    links whose text is only the unit or the year; the unit and year cells of the row name the
    report. Openness columns `/public/<col>/<id>.html` page with 下一页 (`?page=N`)."""

    name = "anhui"
    content = "div.j-fontContent, div.wzcon, div.gzk-article, #zoom, div.content"
    _SHOW = re.compile(r"AnnualReport/show/\d+\.html", re.I)

    def links(self, response: TextResponse, portal) -> list[Link]:
        out: list[Link] = []
        for row in response.css("tr, li"):
            anchors = [a for a in row.css("a[href]") if self._SHOW.search(a.attrib["href"])]
            if not anchors:
                continue
            cells = " ".join(" ".join(row.css("::text").getall()).split())
            for a in anchors:
                text = " ".join(" ".join(a.css("::text").getall()).split())
                label = cells if text in cells else f"{cells} {text}"
                if not re.search(r"年报|年度报告", label):
                    label += " 政府信息公开工作年度报告"
                out.append((urljoin(response.url, a.attrib["href"]), label))
        seen = {u for u, _ in out}
        return out + [(u, t) for u, t in super().links(response, portal) if u not in seen]


FAMILIES = {cls.name: cls() for cls in (Generic, Trs, Hanweb, Gkmlpt, FjSearch, Vsb, Ucap, Anhui)}
