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

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

from parsel import Selector
from scrapy import FormRequest, Request
from scrapy.http import TextResponse

from harvester.spiders.links import NEXT_TEXT_RE

Link = tuple[str, str]


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
    answers the same XML plus `<totalrecord>`."""

    name = "hanweb"
    content = "#zoom, #Zoom, div.zoom, div.bt-content, div.main-txt, #content"
    DATAPROXY = "/module/web/jpage/dataproxy.jsp"
    _RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
    _NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S)
    _TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
    _COL = re.compile(r"/col/col(\d+)/")
    _PERPAGE = re.compile(r"\bperpage\s*[:=]\s*['\"]?(\d+)", re.I)

    def links(self, response: TextResponse, portal) -> list[Link]:
        records = self._RECORD.findall(response.text)
        if not records:
            return super().links(response, portal)
        out: list[Link] = []
        for rec in records:
            out += _anchors(Selector(text=rec), response.url)
        return out

    def pages(self, response: TextResponse, portal) -> list[Request]:
        if self.DATAPROXY in urlsplit(response.url).path:
            return self._next_window(response)
        params = self._params(response)
        if params is None:
            return super().pages(response, portal)
        perpage = int(self._PERPAGE.search(response.text).group(1)) if self._PERPAGE.search(response.text) else 15
        return [self._window(response.url, params, 1, perpage * 3, perpage)]

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


FAMILIES = {cls.name: cls() for cls in (Generic, Trs, Hanweb)}
