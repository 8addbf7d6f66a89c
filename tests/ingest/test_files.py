"""Finding input files and opening them whatever their encoding or compression."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

import pytest

from ingest.files import InputError, expand_paths, open_bytes, open_text, sniff_encoding

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog
    from tests.ingest.samples import Writer

TEXT = "title,artist\nCrazy In Love,Beyoncé\nDon’t Stop Me Now,Queen\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be"])
def test_unicode_files_read_back_exactly_without_a_note(
    write: Writer, problems: ProblemLog, encoding: str
) -> None:
    # Python's "utf-16" writes a little-endian BOM; add one by hand for big-endian.
    content = TEXT.encode(encoding)
    if encoding == "utf-16-be":
        content = codecs.BOM_UTF16_BE + content
    path = write("tracks.csv", content)
    with open_text(path, problems) as text:
        assert text.read() == TEXT
    assert problems.notes == []
    assert len(problems) == 0


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encoded_file_is_read_as_windows_1252_with_a_note(
    write: Writer, problems: ProblemLog, encoding: str
) -> None:
    content = "title,artist\nCrazy In Love,Beyoncé\nMotörhead,Motörhead\n"
    path = write("old.csv", content, encoding)
    with open_text(path, problems) as text:
        assert text.read() == content
    assert problems.notes == [f"{path} is not UTF-8; reading it as Windows-1252"]
    assert len(problems) == 0  # a fallback is a note, not a problem


def test_windows_1252_punctuation_is_decoded(write: Writer, problems: ProblemLog) -> None:
    # 0x92 is a curly apostrophe in cp1252 but a control character in latin-1.
    path = write("old.csv", b"title\nDon\x92t Stop\n")
    with open_text(path, problems) as text:
        assert text.read().splitlines()[1] == "Don’t Stop"


def test_utf8_character_cut_at_the_end_of_the_sniffed_sample_is_still_utf8(
    write: Writer, problems: ProblemLog
) -> None:
    # The sniffer reads 64 KiB; "é" straddles that boundary.
    content = "a" * (65536 - 1) + "é\n"
    path = write("long.csv", content)
    with open_text(path, problems) as text:
        assert text.read() == content
    assert problems.notes == []


def test_a_stray_bad_byte_deep_in_a_utf8_file_is_replaced_not_fatal(
    write: Writer, problems: ProblemLog
) -> None:
    content = ("Beyoncé\n" * 10_000).encode() + b"bad \xff byte\n"
    path = write("mostly_utf8.csv", content)
    with open_text(path, problems) as text:
        lines = text.read().splitlines()
    assert lines[0] == "Beyoncé"
    assert lines[-1] == "bad \ufffd byte"


def test_gzipped_text_is_unpacked(write: Writer, problems: ProblemLog) -> None:
    path = write("tracks.csv.gz", TEXT)
    with open_text(path, problems) as text:
        assert text.read() == TEXT


def test_gzipped_windows_1252_text_is_sniffed_after_unpacking(
    write: Writer, problems: ProblemLog
) -> None:
    path = write("tracks.csv.gz", "artist\nBeyoncé\n", "cp1252")
    with open_text(path, problems) as text:
        assert text.read() == "artist\nBeyoncé\n"
    assert len(problems.notes) == 1


@pytest.mark.parametrize("content", [b"", b"  \r\n\t\n"], ids=["empty", "blank"])
def test_empty_file_is_an_input_error(write: Writer, problems: ProblemLog, content: bytes) -> None:
    path = write("empty.csv", content)
    with pytest.raises(InputError, match="empty"):
        open_text(path, problems)


def test_empty_gzip_is_an_input_error(write: Writer, problems: ProblemLog) -> None:
    path = write("empty.csv.gz", b"")  # a valid gzip holding nothing
    with pytest.raises(InputError, match="empty"):
        open_text(path, problems)


def test_binary_file_is_an_input_error(write: Writer, problems: ProblemLog) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    path = write("cover.csv", png)
    with pytest.raises(InputError, match="binary"):
        open_text(path, problems)


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (b"\xef\xbb\xbftitle", "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "t".encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + "t".encode("utf-16-be"), "utf-16"),
        ("Beyoncé".encode(), "utf-8"),
        (b"plain ascii", "utf-8"),
        ("Beyoncé\n".encode("cp1252"), "cp1252"),
    ],
)
def test_sniff_encoding(head: bytes, encoding: str) -> None:
    assert sniff_encoding(head) == encoding


def test_a_lead_byte_ends_a_sample_as_utf8_but_a_whole_file_as_cp1252() -> None:
    # b"\xe9" could open a three-byte UTF-8 character cut off by the sample's end; at the end
    # of the file it can only be cp1252's "é".
    head = "Beyoncé".encode("cp1252")
    assert sniff_encoding(head) == "utf-8"
    assert sniff_encoding(head, whole_file=True) == "cp1252"


def test_cp1252_file_ending_in_an_accent_is_read_as_cp1252(
    write: Writer, problems: ProblemLog
) -> None:
    path = write("short.csv", "artist\nBeyoncé", "cp1252")  # no final newline
    with open_text(path, problems) as text:
        assert text.read() == "artist\nBeyoncé"
    assert len(problems.notes) == 1


@pytest.mark.parametrize("name", ["plain.csv", "packed.csv.gz"])
def test_open_bytes_reports_every_byte_read_from_disk(write: Writer, name: str) -> None:
    path = write(name, TEXT * 1000)
    seen: list[int] = []
    with open_bytes(path, seen.append) as stream:
        assert stream.read() == (TEXT * 1000).encode()
    # Compressed input counts compressed bytes, so a progress bar over file sizes ends at 100%.
    assert sum(seen) == path.stat().st_size


def test_expand_paths_finds_matching_files_in_folders_sorted(
    tmp_path: Path, write: Writer, problems: ProblemLog
) -> None:
    b = write("slices/b/mpd.slice.1000-1999.json", "{}")
    a = write("slices/a/mpd.slice.0-999.JSON.gz", "{}")
    write("slices/README.md", "about")
    write("slices/a/notes.txt", "not a slice")
    named = write("elsewhere/picked-by-name.dat", "{}")  # a file named directly is always taken
    found = expand_paths([tmp_path / "in" / "slices", named], (".json",), problems)
    assert found == [a, b, named]
    assert len(problems) == 0


def test_expand_paths_reports_missing_paths_and_folders_without_matches(
    tmp_path: Path, write: Writer, problems: ProblemLog
) -> None:
    write("docs/README.md", "about")
    kept = write("history.csv", "x")
    missing = tmp_path / "nowhere"
    found = expand_paths([missing, tmp_path / "in" / "docs", kept], (".csv", ".tsv"), problems)
    assert found == [kept]
    assert [(p.path, p.line, p.message) for p in problems.problems] == [
        (missing, None, "no such file or folder"),
        (tmp_path / "in" / "docs", None, "no .csv / .tsv files in this folder"),
    ]
