"""Issue 16's machine model and wisdom file from Python (pel.tune): the
model against the bounds docs/tuning.md promises and against the raw C
struct, and the wisdom functions: round trip, another machine's text
ignored, corrupt texts refused with nothing changed, files, argument types.
The wisdom format and its checksum (FNV-1a 64) are docs/tuning.md's."""

import ctypes

import pytest

import pel
from pel import tune

pytestmark = pytest.mark.skipif(not pel.has_symbol("pel_machine_info"),
                                reason="the loaded libpel has no tune layer")


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def reclose(body):
    """body (every line before the checksum) closed by its checksum line."""
    return body + f"checksum {fnv1a(body.encode()):016x}\n"


def body_of(text):
    return text[:text.rindex("checksum ")]


def test_machine_info_is_the_c_model():
    m = pel.machine_info()
    raw = tune._Machine()
    tune._machine_info(ctypes.byref(raw))          # the struct as C fills it
    assert m["threads"] == raw.threads >= 1
    assert [c["level"] for c in m["caches"]] == ["L1d", "L2", "L3"]
    for c, r in zip(m["caches"], raw.cache):
        assert (c["bytes"], c["reported_bytes"], c["shared_by"], c["gbps"]) == \
            (r.bytes, r.reported_bytes, r.shared_by, r.gbps)
        assert c["source"] == tune.SOURCES[r.source]
        assert c["bytes"] > 0
        # pel never plans with more than the OS reports (docs/tuning.md).
        assert c["reported_bytes"] == 0 or c["bytes"] <= c["reported_bytes"]
    assert m["caches"][0]["bytes"] <= m["caches"][1]["bytes"] <= m["caches"][2]["bytes"]
    assert 0.2 <= m["memory_gbps"] <= 20000 and m["memory_source"] in tune.SOURCES
    assert 0.2 <= m["fma_gflops"] <= 1e6 and m["fma_source"] in tune.SOURCES
    assert m["parallel_region_us"] >= 0 and m["measure_seconds"] >= 0
    assert len(m["sweep"]) == raw.sweep_points <= 32
    sizes = [b for b, _ in m["sweep"]]
    assert sizes == sorted(sizes) and all(b > 0 for b in sizes)
    assert all(g > 0 for _, g in m["sweep"])
    assert pel.machine_info() == m                 # measured once per process


def test_wisdom_round_trip():
    text = pel.wisdom_export()
    assert text.startswith("pel-wisdom 1\nfingerprint ")
    assert text.endswith("\n") and "\nchecksum " in text
    assert pel.wisdom_import(text) is True
    assert pel.wisdom_export() == text             # the same model, the same text
    assert pel.wisdom_import(text.encode()) is True


def test_another_machine_is_ignored():
    text = pel.wisdom_export()
    lines = body_of(text).split("\n")
    assert lines[1].startswith("fingerprint ")
    lines[1] += " (another machine)"
    foreign = reclose("\n".join(lines))
    before = pel.machine_info()
    assert pel.wisdom_import(foreign) is False
    assert "from another machine" in tune.last_note()
    assert pel.machine_info() == before


def test_corrupt_texts_change_nothing(tmp_path):
    text = pel.wisdom_export()
    before = pel.machine_info()
    altered = list(text)
    middle = len(text) // 2
    altered[middle] = "7" if text[middle] != "7" else "8"
    # A changed model value with a valid checksum: the grammar check refuses
    # a negative bandwidth.
    body = body_of(text)
    memory = next(line for line in body.split("\n") if line.startswith("memory "))
    negative = reclose(body.replace(memory, "memory -5 measured", 1))
    for bad in [text[: len(text) // 2], "".join(altered), "pel-wisdom 1\n", "", "random text",
                negative]:
        with pytest.raises(pel.ParseError, match="^pel_wisdom_import: "):
            pel.wisdom_import(bad)
    path = tmp_path / "truncated.wisdom"
    path.write_text(text[:-20])
    with pytest.raises(pel.ParseError, match="^pel_wisdom_import_file: "):
        pel.wisdom_import_file(path)
    assert pel.machine_info() == before
    assert pel.wisdom_export() == text


def test_wisdom_files(tmp_path):
    path = tmp_path / "pel.wisdom"
    pel.wisdom_export_file(path)
    text = path.read_text()
    assert text.startswith("pel-wisdom 1\n")
    assert pel.wisdom_import_file(path) is True
    assert pel.wisdom_import_file(str(path)) is True
    foreign = tmp_path / "foreign.wisdom"
    foreign.write_text(reclose(body_of(text).replace("fingerprint ", "fingerprint other ", 1)))
    assert pel.wisdom_import_file(foreign) is False
    with pytest.raises(pel.PelIOError, match="^pel_wisdom_import_file: "):
        pel.wisdom_import_file(tmp_path / "missing.wisdom")
    with pytest.raises(OSError):
        pel.wisdom_export_file(tmp_path / "no-such-dir" / "x.wisdom")


def test_wisdom_argument_types(tmp_path):
    for bad in [None, 3, ["pel-wisdom 1"]]:
        with pytest.raises(TypeError, match="^wisdom_import: text must be str or bytes"):
            pel.wisdom_import(bad)
    with pytest.raises(ValueError, match="NUL"):
        pel.wisdom_import("pel-wisdom 1\0rest")
    for func in (pel.wisdom_export_file, pel.wisdom_import_file):
        with pytest.raises(ValueError, match=f"^{func.__name__}: path contains a NUL"):
            func(str(tmp_path / "a\0b"))
        with pytest.raises(TypeError):
            func(None)
