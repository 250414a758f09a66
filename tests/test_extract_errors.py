"""Inputs that are not readable reports get a typed error, and the tables stay null."""
from __future__ import annotations

import io
import zipfile

from harvester.extract import extract


def test_page_that_is_not_a_report_gives_not_a_report():
    html = "<html><head><title>临淄区政务服务中心</title></head><body><p>办事指南：请携带身份证。</p></body></html>"
    record = extract(html.encode("utf-8"), source="news.html")
    assert record.error.kind == "not_a_report" and record.table3 is None
    assert "办事指南" in record.text  # the text is still kept


def test_minimal_ofd_without_pages_gives_a_corrupt_error_naming_what_is_missing():
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", f"<ofd:OFD {ns}/>")
    record = extract(buf.getvalue(), source="report.ofd")
    assert record.media_type == "application/ofd"
    assert record.error.kind == "corrupt" and "DocRoot" in record.error.message
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", f"<ofd:OFD {ns}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
                              "</ofd:DocBody></ofd:OFD>")
        z.writestr("Doc_0/Document.xml", f"<ofd:Document {ns}><ofd:CommonData/><ofd:Pages/></ofd:Document>")
    record = extract(buf.getvalue(), source="report.ofd")
    assert record.error.kind == "corrupt" and "no pages" in record.error.message
    assert record.table3 is None


def test_plain_zip_asks_to_unpack_it():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    record = extract(buf.getvalue(), source="bundle.zip")
    assert record.error.kind == "unsupported_format" and "unpack" in record.error.message
