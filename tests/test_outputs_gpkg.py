"""The GeoPackage writer: the output contract's layer names, types, atomic replacement."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from shapely import Point

from rakennettu.outputs import gpkg
from rakennettu.outputs.gpkg import read_gpkg, write_gpkg


def _frame(n=3):
    return gpd.GeoDataFrame(
        {"tags": [{"name": f"<b>{i}</b>"} for i in range(n)], "flag": [True] * n},
        geometry=[Point(385000 + i, 6672000) for i in range(n)],
        crs=3067,
    )


def test_layers_and_types_round_trip(tmp_path):
    edges = _frame().set_index(
        gpd.pd.MultiIndex.from_tuples([(1, 2, 0), (2, 3, 0), (3, 1, 0)], names=["u", "v", "key"])
    )
    path = write_gpkg({"nodes": _frame(), "edges": edges}, tmp_path / "v.gpkg")
    assert [str(n) for n, _ in pyogrio.list_layers(path)] == ["nodes", "edges"]
    back = read_gpkg(path)
    assert back["edges"][["u", "v", "key"]].values.tolist() == [[1, 2, 0], [2, 3, 0], [3, 1, 0]]
    assert back["nodes"]["tags"].iloc[0] == '{"name": "<b>0</b>"}'  # JSON text, unescaped
    assert back["nodes"].crs.equals(_frame().crs)


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = write_gpkg({"nodes": _frame(3)}, tmp_path / "v.gpkg")
    before = path.read_bytes()
    real = pyogrio.write_dataframe

    def dies_on_second_layer(df, dst, layer=None, **kw):
        if layer == "edges":
            raise KeyboardInterrupt
        return real(df, dst, layer=layer, **kw)

    monkeypatch.setattr(gpkg.pyogrio, "write_dataframe", dies_on_second_layer)
    with pytest.raises(KeyboardInterrupt):
        write_gpkg({"nodes": _frame(5), "edges": _frame(5)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.gpkg"]  # no temporary left
