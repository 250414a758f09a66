"""Real reports whose tables reached us as broken markdown (text extracted from their PDFs by another
tool): the rows printed whole give the numbers the corpus MANIFEST lists; rows whose labels and values
were torn apart stay null, never guessed."""
from __future__ import annotations

from pathlib import Path

from harvester.extract import extract

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def test_shanghai_office_2025_totals_are_the_published_ones():
    record = extract((CORPUS / "shanghai_office_2025_pdf_text.md").read_bytes())
    assert (record.agency, record.year, record.template) == ("上海市人民政府办公厅", 2025, "2021")
    t3 = record.table3
    assert (t3["new_received"]["total"], t3["carried_over"]["total"],
            t3["total_processed"]["total"], t3["carried_forward"]["total"]) == (1295, 189, 1191, 293)


def test_shanghai_stcsm_2024_lost_total_cell_is_blank_and_flagged_not_repaired():
    record = extract((CORPUS / "shanghai_stcsm_2024_pdf_text.md").read_bytes())
    assert (record.agency, record.year) == ("上海市科委", 2024)
    t3 = record.table3
    assert (t3["new_received"]["total"], t3["carried_over"]["total"], t3["total_processed"]["total"]) == (34, 2, 35)
    # the rendering lost the 结转 total (the report says 1): kept as printed (blank), and the check says so
    assert t3["carried_forward"]["natural_person"] == 1 and t3["carried_forward"]["total"] == 0
    assert "table3.carried_forward.total" in record.blank_cells
    assert any(c.rule == "table3.row_sum" and c.where == "carried_forward" and c.expected == 1 and not c.ok
               for c in record.checks)


def test_rows_torn_apart_by_the_rendering_are_null_not_guessed():
    record = extract((CORPUS / "shanghai_stcsm_2024_pdf_text.md").read_bytes())
    # （二）部分公开: label and values on different lines in the rendering
    assert set(record.table3["partially_granted"].values()) == {None}
