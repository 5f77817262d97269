"""Batches of towns on Dask distributed: failures, the cache key, the comparison, the CLI."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import loopback_only
from rakennettu import bundled_workflow, load_workflow
from rakennettu._resources import bundled_osm_path
from rakennettu._warmup import tiny_town_osm
from rakennettu.batch import RECORD, TownResult, batch_key, compare_towns, run_batch
from rakennettu.cli import EXIT_CODES, cli
from rakennettu.errors import ConfigError, SourceError

# pandas/pyrosm deprecations raised while the client loads the workflows
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

# Two made-up towns (rakennettu._warmup.tiny_town_osm: a 6 x 6 street grid with
# buildings, shops and an empty block), each run takes seconds: the same town at two
# scales, so the comparison's densities are known by hand (see _check_comparison).
DENSE, SPARSE = 80.0, 120.0  # metres between streets

# Small settings keep the batch quick: two radii, leverage within 400 m, few weight draws,
# no report (its figures take seconds; the comparison links to the maps).
FAST = """
[network]
radii = [400, 800]
[candidates]
radius = 400
draws = 20
[outputs]
report = false
"""


def _town(folder: Path, stem: str, head: str) -> Path:
    path = folder / f"{stem}.toml"
    path.write_text(head + FAST, encoding="utf-8")
    return path


def _osm(folder: Path, stem: str, origin: tuple[float, float], spacing: float) -> str:
    path = folder / f"{stem}.osm"
    path.write_text(tiny_town_osm(origin=origin, spacing=spacing), encoding="utf-8")
    return json.dumps(str(path))


@pytest.fixture
def _no_network(monkeypatch):
    """As in conftest, but the Dask scheduler and workers may talk over the loopback."""
    loopback_only(monkeypatch)


@pytest.fixture
def towns(tmp_path) -> dict[str, Path]:
    """Workflow files: a dense town in Finland, a sparse one in Austria, a broken one."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    dense = _osm(folder, "tihea", (60.165, 24.930), DENSE)
    sparse = _osm(folder, "harva", (48.402, 15.600), SPARSE)
    files = {
        "tihea": _town(
            folder,
            "tihea",
            f'[town]\nname = "tihea"\ntitle = "Tiheä"\ncrs = "EPSG:3067"\n[osm]\npath = {dense}\n',
        ),
        # no CRS given: its UTM zone; a title with markup
        "harva": _town(
            folder,
            "harva",
            '[town]\nname = "harva"\ntitle = "Krems an der Donau <Stein & Mautern>"\n'
            f"[osm]\npath = {sparse}\n",
        ),
    }
    cut = folder / "cut.osm.pbf"
    cut.write_bytes(bundled_osm_path("pyrosm:test_pbf").read_bytes()[:50_000])
    files["broken"] = _town(folder, "broken", f'[town]\nname = "broken"\n[osm]\npath = "{cut}"\n')
    return files


def _check_first(result, out: Path, towns: dict[str, Path], seen: list[str]) -> None:
    """Failures are reported with their error; the other towns finish and are recorded."""
    by_name = {t.name: t for t in result.towns}
    ok = [n for n in towns if n != "broken"]
    assert sorted(t.name for t in result.ran) == sorted(ok)
    assert {t.name for t in result.failed} == {"broken", "missing"}
    broken = by_name["broken"]
    assert broken.error_type == "SourceError" and broken.error_kind == "data"
    assert "corrupt or truncated" in broken.error
    assert broken.line().startswith("broken: failed: SourceError: ")
    missing = by_name["missing"]
    assert (missing.error_type, missing.error_kind) == ("SourceError", "data")
    assert "workflow file not found" in missing.error
    assert sorted(seen) == sorted(by_name)  # each town reported once, as it ended
    assert result.cluster == "local: 2 workers"
    for name in ok:
        assert (out / name / "vitality.gpkg").is_file()
        record = json.loads((out / name / RECORD).read_text())
        assert record["status"] == "ok" and record["key"] == by_name[name].key
        assert by_name[name].timings["load"] > 0


def _check_comparison(result, out: Path, towns: dict[str, Path]) -> None:
    """One row per town with results, comparable figures, a self-contained page."""
    table = pd.read_csv(out / "batch" / "comparison.csv", index_col="town")
    assert sorted(table.index) == sorted(n for n in towns if n != "broken")
    assert list(table.index) == list(result.comparison.index)
    assert table["vitality_rank"].tolist() == list(range(1, len(table) + 1))
    assert table["area_km2"].gt(0).all() and table["residents_per_km2"].gt(0).all()
    assert table["residents_near_third_place"].between(0, 1).all()
    q = table[["synergy_p10", "synergy_p25", "synergy_p50", "synergy_p75", "synergy_p90"]]
    assert (q.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert table["top1"].notna().all() and table["top1_score"].between(0, 1).all()
    # the same town at 1.5 times the scale, on 2.25 times the ground: the same
    # intersections, so 2.25 times fewer per km²; buildings 2.25 times larger, so as
    # many residents per km²
    dense, sparse = table.loc["tihea"], table.loc["harva"]
    ratio = (SPARSE / DENSE) ** 2
    assert sparse["area_km2"] / dense["area_km2"] == pytest.approx(ratio, rel=0.02)
    assert dense["intersections_per_km2"] / sparse["intersections_per_km2"] == pytest.approx(
        ratio, rel=0.02
    )
    assert dense["residents_per_km2"] / sparse["residents_per_km2"] == pytest.approx(1, rel=0.02)
    page = (out / "batch" / "comparison.html").read_text(encoding="utf-8")
    assert "<svg" in page and "Tiheä" in page
    assert '<a href="../tihea/map.html">map</a>' in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # self-contained
    # outside Finland: a UTM CRS; its title is escaped
    assert next(t for t in result.towns if t.name == "harva").summary["crs"] == "EPSG:32633"
    assert "Krems an der Donau &lt;Stein &amp; Mautern&gt;" in page


def _check_second_run(result, out: Path, towns: dict[str, Path], scheduler: str) -> None:
    """Unchanged towns are skipped, a changed one runs again, a failed one is retried."""
    before = {t.name: (out / t.name / RECORD).read_text() for t in result.ran}
    dense = towns["tihea"]
    dense.write_text(dense.read_text().replace("draws = 20", "draws = 21"), encoding="utf-8")
    try:
        again = run_batch(list(towns.values()), out_root=out, scheduler=scheduler)
    finally:
        dense.write_text(dense.read_text().replace("draws = 21", "draws = 20"), encoding="utf-8")
    assert again.cluster == scheduler
    assert [t.name for t in again.ran] == ["tihea"]
    assert sorted(t.name for t in again.skipped) == sorted(n for n in before if n != "tihea")
    for t in again.skipped:
        assert (out / t.name / RECORD).read_text() == before[t.name]  # not run again
        assert t.summary == json.loads(before[t.name])["summary"]
    assert [t.name for t in again.failed] == ["broken"]  # a failed town is always retried
    table = pd.read_csv(out / "batch" / "comparison.csv", index_col="town")
    assert sorted(table.index) == sorted(before)  # skipped towns keep their rows


def _check_cli(out: Path, towns: dict[str, Path], scheduler: str) -> None:
    """Exit 0 when every town has results (one changed back, one unchanged), 4 with a
    data error."""
    ok = [str(towns[n]) for n in towns if n != "broken"]
    runner = CliRunner()
    result = runner.invoke(cli, ["-q", "batch", *ok, "--out", str(out), "--scheduler", scheduler])
    assert result.exit_code == EXIT_CODES["ok"], result.output
    assert "unchanged, skipped" in result.output and "comparison_csv:" in result.output
    everything = [*ok, str(towns["broken"]), "--out", str(out), "--scheduler", scheduler]
    result = runner.invoke(cli, ["-q", "batch", *everything])
    assert result.exit_code == EXIT_CODES["data"] == 4
    assert "broken: failed: SourceError: " in result.output


@pytest.mark.slow
def test_a_batch_of_towns(towns, tmp_path):
    """One scenario, so the towns run once whichever worker pytest-xdist picks.

    Two made-up towns (one in Finland, one in Austria), a corrupt extract and a missing
    workflow file, on a local cluster of two workers (Dask's default HTTP port
    taken: no matter); then again with one town changed, and from the command line, on a
    running cluster given by its address.
    """
    from distributed import LocalCluster

    out = tmp_path / "out"
    seen: list[str] = []
    with contextlib.ExitStack() as stack:
        taken = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        result = run_batch(
            [*towns.values(), towns["tihea"].parent / "missing.toml"],
            out_root=out,
            workers=2,
            on_result=lambda t: seen.append(t.name),
        )
    _check_first(result, out, towns, seen)
    _check_comparison(result, out, towns)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
    ) as cluster:  # fmt: skip
        _check_second_run(result, out, towns, cluster.scheduler_address)
        _check_cli(out, towns, cluster.scheduler_address)


def test_workers_and_scheduler_exclude_each_other():
    result = CliRunner().invoke(
        cli, ["batch", "kotka-karhula", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]
    )
    assert result.exit_code == EXIT_CODES["usage"]
    with pytest.raises(ValueError, match="workers sets the size of the local cluster"):
        run_batch(["kotka-karhula"], scheduler="tcp://127.0.0.1:1", workers=2)


@pytest.mark.slow
def test_cli_unreachable_scheduler_is_a_data_error(towns, tmp_path, monkeypatch):
    monkeypatch.setattr("rakennettu.batch.CONNECT_TIMEOUT", "1s")  # the same error, sooner
    result = CliRunner().invoke(
        cli,
        [
            "-q",
            "batch",
            str(towns["broken"]),
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == EXIT_CODES["data"]
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output


def test_two_workflows_of_one_town_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="several workflows name the town 'kotka-karhula'"):
        run_batch(["kotka-karhula", bundled_workflow("kotka-karhula")], out_root=tmp_path)


def test_cache_key_follows_settings_and_file_content(tmp_path):
    pbf = tmp_path / "town.osm.pbf"
    pbf.write_bytes(bundled_osm_path("pyrosm:test_pbf").read_bytes())
    path = tmp_path / "town.toml"
    path.write_text(f'[town]\nname = "town"\n[osm]\npath = "{pbf}"\n', encoding="utf-8")
    key, parts = batch_key(load_workflow(path))
    assert key == batch_key(load_workflow(path))[0]
    assert set(parts) == {"version", "workflow", "inputs", "taxonomy"}
    path.write_text(path.read_text() + "[candidates]\ndraws = 7\n", encoding="utf-8")
    changed = batch_key(load_workflow(path))[0]
    assert changed != key
    pbf.write_bytes(pbf.read_bytes() + b"\0")
    assert batch_key(load_workflow(path))[0] != changed


def test_cache_key_of_an_unreadable_input(tmp_path):
    pbf = tmp_path / "town.osm.pbf"
    pbf.write_bytes(b"")
    path = tmp_path / "town.toml"
    path.write_text(f'[town]\nname = "town"\n[osm]\npath = "{pbf}"\n', encoding="utf-8")
    wf = load_workflow(path)
    pbf.unlink()
    with pytest.raises(SourceError, match=r"town\.osm\.pbf: cannot read this input \(osm\)"):
        batch_key(wf)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConfigError("x"), "config"),
        (SourceError("x"), "data"),
        (ZeroDivisionError("x"), "internal"),
    ],
    ids=["config", "data", "internal"],
)
def test_error_kinds(exc, kind):
    from rakennettu.batch import _failed

    town = _failed("t", "t.toml", exc)
    assert (town.status, town.error_kind, town.error_type) == ("failed", kind, type(exc).__name__)
    assert not town.ok


def test_comparison_leaves_out_indicators_no_town_has():
    towns = [
        {"town": t, "area_km2": 1.0, "medians": {"morph_a": m, "soc_b": s}}
        for t, m, s in [("a", 1.0, 2.0), ("b", 2.0, 1.0)]
    ]
    table, notes = compare_towns(
        towns,
        indicators={"morph": {"morph_a": 1}, "soc": {"soc_b": 1}, "cult": {"cult_c": 1}},
        weights={"morph": 1, "soc": 1, "cult": 1},
    )
    assert table["score_cult"].isna().all() and table["vitality"].notna().all()
    assert notes == [
        "cult: cult_c computed in no town; left out",
        "cult: no indicator computed in any town; dimension left out",
    ]


def test_town_result_lines():
    ran = TownResult("a", "a.toml", "ran", out_dir=Path("out/a"), seconds=12.34)
    assert ran.line() == "a: done in 12.3 s (out/a)"
    assert TownResult("a", "a.toml", "skipped", out_dir=Path("out/a")).line() == (
        "a: unchanged, skipped (out/a)"
    )


def test_a_median_beyond_reach_counts_as_the_farthest():
    towns = [
        {"town": t, "area_km2": 1.0, "medians": m}
        for t, m in [
            ("near", {"soc_nearest_x": 100.0}),
            ("far", {"soc_nearest_x": 900.0}),
            ("none", {"soc_nearest_x": None}),  # the median cell reaches none
            ("unknown", {}),  # not computed
        ]
    ]
    table, _ = compare_towns(towns, indicators={"soc": {"soc_nearest_x": -1}}, weights={"soc": 1})
    assert table["vitality_rank"].to_dict() == {"near": 1, "far": 2, "none": 3, "unknown": 4}
    assert table.loc["unknown", "vitality"] != table.loc["unknown", "vitality"]  # NaN
