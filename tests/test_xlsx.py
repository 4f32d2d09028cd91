"""The .xlsx sheet reader (sensors/importers/xlsx.py) against workbooks written by openpyxl and by hand:
shared and inline strings, sparse cells, the vectorised bulk path and its fallbacks, damage."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from sensors.errors import InputError
from sensors.importers import xlsx

openpyxl = pytest.importorskip("openpyxl")

WORKBOOK = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{}</sheets></workbook>')
RELS = '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>'
SHEET = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData></worksheet>'


def handmade(path: Path, sheets: dict[str, str], shared: list[str] | None = None) -> Path:
    """A minimal workbook as Excel writes it: sheets given as <sheetData> content, relative targets."""
    entries = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, 1))
    rels = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", WORKBOOK.format(entries))
        if shared is not None:
            rels += ('<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     'relationships/sharedStrings" Target="sharedStrings.xml"/>')
            archive.writestr("xl/sharedStrings.xml", "<sst>" + "".join(shared) + "</sst>")
        archive.writestr("xl/_rels/workbook.xml.rels", RELS.format(rels))
        for i, content in enumerate(sheets.values(), 1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", SHEET.format(content))
    return path


def openpyxl_rows(path: Path) -> list[list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [[tuple(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]
    finally:
        book.close()


def test_shared_strings_with_runs_entities_and_phonetic_guides(tmp_path):
    shared = ["<si><t>Time (s)</t></si>", '<si><r><t>Accel</t></r><r><rPr/><t xml:space="preserve">eration &amp; g</t></r>'
              "<rPh><t>x</t></rPh></si>", "<si><t>&#x4E2D;&lt;&#65;</t></si>"]
    path = handmade(tmp_path / "s.xlsx", {"Data": '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v>'
                                                  '</c><c r="C1" t="s"><v>2</v></c></row>'}, shared)
    (sheet,) = xlsx.read_workbook(path)
    assert sheet.title == "Data" and sheet.rows == [("Time (s)", "Acceleration & g", "中<A")]


def test_inline_strings_booleans_errors_and_formula_results(tmp_path):
    row = ('<row r="1"><c r="A1" t="inlineStr"><is><t>a &quot;b&quot;</t></is></c><c r="B1" t="b"><v>1</v></c>'
           '<c r="C1" t="e"><v>#DIV/0!</v></c><c r="D1"><f>1+1</f><v>2</v></c><c r="E1" t="str"><f>"x"</f>'
           '<v>x</v></c><c r="F1"><f>A1</f></c></row>')
    (sheet,) = xlsx.read_workbook(handmade(tmp_path / "i.xlsx", {"S": row}))
    assert sheet.rows == [('a "b"', True, "#DIV/0!", 2.0, "x", None)]


def test_sparse_cells_and_rows_land_where_their_references_say(tmp_path):
    rows = ('<row r="2"><c r="C2"><v>3</v></c></row><row r="5"><c r="A5"><v>1</v></c><c r="D5" s="1"/>'
            '<c r="E5"><v>5.5</v></c></row><row r="6"><c><v>7</v></c><c><v>8</v></c></row>')
    (sheet,) = xlsx.read_workbook(handmade(tmp_path / "p.xlsx", {"S": rows}))
    assert sheet.rows == [(), (None, None, 3.0), (), (), (1.0, None, None, None, 5.5), (7.0, 8.0)]


@pytest.mark.parametrize("rows", [1, 3, 100_000])
def test_numeric_sheet_round_trips_against_openpyxl(tmp_path, rows):
    rng = np.random.default_rng(rows)
    values = rng.normal(0, 10, (rows, 4)) * 10.0 ** rng.integers(-8, 8, (rows, 4))
    values[:, 0] = np.arange(rows) / 200
    path = tmp_path / "big.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Raw Data")
    sheet.append(["Time (s)", "x", "y", "z"])
    for row in values.tolist():
        sheet.append(row)
    book.create_sheet("Meta").append(["property", "value", 3])
    book.save(path)
    data, meta = xlsx.read_workbook(path)
    expected = openpyxl_rows(path)
    assert data.title == "Raw Data" and meta.title == "Meta"
    assert data.first_row == expected[0][0]
    body = data.numeric_body(skip=1)
    assert body.dtype == np.float64 and np.array_equal(body, np.array(expected[0][1:], dtype=float))
    assert data.rows == [expected[0][0]] + [tuple(map(float, r)) for r in expected[0][1:]]
    assert meta.rows == [("property", "value", 3.0)]
    if rows > 1000:
        assert any(isinstance(part, np.ndarray) for part in data.parts)  # the bulk took the fast path


def test_rows_that_break_the_pattern_fall_back_to_cell_by_cell(tmp_path):
    def row(r, cells):
        return f'<row r="{r}">' + "".join(f'<c r="{c}{r}"{t}><v>{v}</v></c>' for c, t, v in cells) + "</row>"
    content = [row(1, [("A", "", 1), ("B", "", 2)])]
    content += [row(r, [("A", "", r), ("B", "", r / 4)]) for r in range(2, 60)]
    content += [row(60, [("A", "", 60), ("C", "", 1)])]                 # a skipped column
    content += [row(62, [("A", "", 62), ("B", "", "nan")])]             # a skipped row, a value pandas would miss
    content += [row(r, [("A", "", r), ("B", ' t="s"', 0)]) for r in (63, 64)]  # shared strings in the bulk
    content += [row(r, [("A", "", r), ("B", "", f"{r}e-3")]) for r in range(65, 2000)]
    (sheet,) = xlsx.read_workbook(handmade(tmp_path / "f.xlsx", {"S": "".join(content)}, ["<si><t>s</t></si>"]))
    rows = sheet.rows
    assert rows[0] == (1.0, 2.0) and rows[58] == (59.0, 59 / 4)
    assert rows[59] == (60.0, None, 1.0) and rows[60] == ()
    assert rows[61][0] == 62.0 and np.isnan(rows[61][1])
    assert rows[62] == (63.0, "s") and rows[1998] == (1999.0, 1.999)
    assert len(rows) == 1999


def test_the_vectorised_path_checks_row_numbers_and_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "PIECE_BYTES", 4096)  # many pieces: rows cut across piece boundaries
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>-{r}.5</v></c></row>'
                   for r in list(range(1, 5000)) + [5001])
    (sheet,) = xlsx.read_workbook(handmade(tmp_path / "n.xlsx", {"S": rows}))
    out = sheet.rows
    assert len(out) == 5001 and out[4998] == (4999.0, -4999.5) and out[4999] == () and out[5000] == (5001.0, -5001.5)
    assert all(out[r - 1] == (float(r), -r - 0.5) for r in range(1, 5000))


@pytest.mark.parametrize("damage", ["truncate", "no_workbook", "bad_reference", "huge_row", "bad_string_index",
                                    "text_not_zip"])
def test_damage_is_an_input_error(tmp_path, damage):
    path = handmade(tmp_path / "d.xlsx", {"S": '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' * 1}, ["<si><t>a</t></si>"])
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "no_workbook":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("xl/other.xml", "<x/>")
    elif damage == "bad_reference":
        handmade(path, {"S": '<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>'})
    elif damage == "huge_row":
        handmade(path, {"S": '<row r="99999999"><c r="A99999999"><v>1</v></c></row>'})
    elif damage == "bad_string_index":
        handmade(path, {"S": '<row r="1"><c r="A1" t="s"><v>7</v></c></row>'}, [])
    else:
        path.write_text("time,x\n1,2\n")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        xlsx.read_workbook(path)


def test_phyphox_fixture_reads_as_openpyxl_reads_it():
    path = Path(__file__).resolve().parent / "fixtures" / "importers" / "phyphox_with_g.xlsx"
    ours = xlsx.read_workbook(path)
    theirs = openpyxl_rows(path)
    assert [s.title for s in ours] == openpyxl.load_workbook(path, read_only=True).sheetnames
    for sheet, rows in zip(ours, theirs):
        assert sheet.rows == [tuple(float(v) if isinstance(v, int) else v for v in r) for r in rows]
