"""OSM features as rakennettu reads them: one ``tags`` dict per feature.

pyrosm returns the common tags as columns and the rest as a JSON text column ``tags``.
:func:`tags_from_pyrosm` merges both into one dict per feature, and
:func:`features_from_pyrosm` builds the features frame every classifier takes:
``osm_type``, ``osm_id``, ``name``, ``tags``, ``geometry``.

:data:`KEYS` lists the OSM keys a loader must keep features by so that no rule of the
bundled tag tables misses a match::

    osm.get_data_by_custom_criteria(
        custom_filter={k: True for k in KEYS}, filter_type="keep",
        keep_nodes=True, keep_ways=True, keep_relations=True,
    )
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu.errors import SourceError

__all__ = [
    "KEYS",
    "PYROSM_BOOKKEEPING",
    "features_from_pyrosm",
    "tag_values",
    "tags_from_pyrosm",
]

log = logging.getLogger(__name__)

#: Keys to request from a loader: for every match expression of the bundled tag tables,
#: the key a feature must have to match it (see ``Taxonomy.request_keys``; a test keeps
#: the two equal). A changed table changes this list: request
#: ``load_taxonomy(...).request_keys`` for your own tables.
KEYS: tuple[str, ...] = (
    "abandoned",
    "abandoned:building",
    "abandoned:landuse",
    "access",
    "addr:housenumber",
    "amenity",
    "area",
    "area:highway",
    "building",
    "construction",
    "craft",
    "disused",
    "disused:amenity",
    "disused:building",
    "disused:landuse",
    "disused:office",
    "disused:shop",
    "healthcare",
    "heritage",
    "highway",
    "historic",
    "landuse",
    "leisure",
    "man_made",
    "natural",
    "office",
    "place",
    "post_office",
    "public_transport",
    "railway",
    "ruins",
    "ruins:building",
    "shop",
    "tourism",
    "water",
    "waterway",
)

#: pyrosm columns that are not OSM tags (``members``: a relation's members; ``nodes``: a
#: way's node ids, when asked for).
PYROSM_BOOKKEEPING: tuple[str, ...] = (
    "id",
    "lon",
    "lat",
    "visible",
    "version",
    "timestamp",
    "changeset",
    "osm_type",
    "geometry",
    "tags",
    "members",
    "nodes",
)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def tags_from_pyrosm(gdf: pd.DataFrame) -> pd.Series:
    """Merge pyrosm's tag columns and its JSON ``tags`` text into one dict per feature.

    Parameters
    ----------
    gdf
        A frame from pyrosm (``get_data_by_custom_criteria``, ``get_buildings``, ``get_pois``
        ...): one column per common tag, plus ``tags``, a JSON object of the other tags
        (or None). Not modified. pyrosm puts a relation's ``members`` into that JSON
        too: it is bookkeeping, not a tag, and is left out.

    Returns
    -------
    pandas.Series
        Named ``tags``, on the frame's index: a dict ``{key: value}`` (text to text) of
        every tag of the feature. Empty values are dropped. pyrosm's bookkeeping columns
        (:data:`PYROSM_BOOKKEEPING`) are not tags and are left out.

    Raises
    ------
    SourceError
        A ``tags`` entry is not valid JSON.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({
    ...     "id": [7, 8],
    ...     "amenity": ["cafe", None],
    ...     "name": ["Sävy", None],
    ...     "tags": ['{"outdoor_seating": "yes"}', None],
    ...     "version": [3, 1],
    ... })
    >>> tags_from_pyrosm(raw).tolist()
    [{'outdoor_seating': 'yes', 'amenity': 'cafe', 'name': 'Sävy'}, {}]
    """
    n = len(gdf)
    dicts: list[dict[str, str]] = [{} for _ in range(n)]
    if "tags" in gdf.columns:
        ids = gdf["id"].to_numpy() if "id" in gdf.columns else np.arange(n)
        for i, raw in enumerate(gdf["tags"].to_numpy()):
            if _missing(raw):
                continue
            if isinstance(raw, dict):
                parsed = raw
            else:
                try:
                    parsed = json.loads(raw)
                except (TypeError, ValueError) as e:
                    raise SourceError(
                        f"feature id {ids[i]}: its pyrosm 'tags' text is not JSON ({e}): "
                        f"{str(raw)[:80]!r}"
                    ) from None
                if not isinstance(parsed, dict):
                    raise SourceError(
                        f"feature id {ids[i]}: its pyrosm 'tags' text is not a JSON object: "
                        f"{str(raw)[:80]!r}"
                    )
            dicts[i].update(
                {
                    str(k): str(v)
                    for k, v in parsed.items()
                    if k not in PYROSM_BOOKKEEPING
                    and not _missing(v)
                    and not isinstance(v, list | dict)
                }
            )
    for column in gdf.columns:
        if column in PYROSM_BOOKKEEPING:
            continue
        values = gdf[column].to_numpy()
        present = ~pd.isna(values)
        for row in np.flatnonzero(present):
            value = values[row]
            if value != "":
                dicts[row][str(column)] = str(value)
    return pd.Series(dicts, index=gdf.index, name="tags", dtype=object)


def features_from_pyrosm(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Build the features frame the classifiers take from a pyrosm frame.

    Parameters
    ----------
    gdf
        A GeoDataFrame from pyrosm, with ``id``, ``osm_type``, ``geometry``, tag columns and
        ``tags`` (JSON text). Not modified.

    Returns
    -------
    geopandas.GeoDataFrame
        ``osm_type`` ('node', 'way' or 'relation'), ``osm_id`` (int), ``name`` (text or
        None), ``tags`` (a dict of every tag, see :func:`tags_from_pyrosm`) and
        ``geometry``; index and CRS kept.

    Raises
    ------
    SourceError
        ``id``, ``osm_type`` or the geometry is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> raw = gpd.GeoDataFrame(
    ...     {"id": [7], "osm_type": ["node"], "amenity": ["cafe"], "name": ["Sävy"],
    ...      "tags": [None]},
    ...     geometry=[Point(24.95, 60.18)], crs="EPSG:4326",
    ... )
    >>> features_from_pyrosm(raw).drop(columns="geometry").to_dict("records")
    [{'osm_type': 'node', 'osm_id': 7, 'name': 'Sävy', 'tags': {'amenity': 'cafe', 'name': 'Sävy'}}]
    """
    missing = [c for c in ("id", "osm_type") if c not in gdf.columns]
    if missing or not isinstance(gdf, gpd.GeoDataFrame):
        raise SourceError(
            f"not a pyrosm frame: missing {missing or ['geometry']}; pass what pyrosm's "
            "OSM(...).get_data_by_custom_criteria(...) returns"
        )
    tags = tags_from_pyrosm(gdf)
    name = pd.Series([t.get("name") for t in tags], index=gdf.index, dtype=object)
    out = gpd.GeoDataFrame(
        {
            "osm_type": gdf["osm_type"].astype(object),
            "osm_id": gdf["id"].astype("int64"),
            "name": name,
            "tags": tags,
        },
        geometry=gdf.geometry,
        crs=gdf.crs,
    )
    log.debug("features_from_pyrosm: %d features", len(out))
    return out


def tag_values(tags: pd.Series, key: str) -> pd.Series:
    """Return the value of one OSM key per feature, from a Series of tag dicts.

    Parameters
    ----------
    tags
        A dict of tags per feature (None or NaN for a feature without tags).
    key
        An OSM key, e.g. ``"building:levels"``.

    Returns
    -------
    pandas.Series
        Object dtype, on the same index: the value as text with surrounding spaces
        removed, None where the key is absent or its value empty.

    Examples
    --------
    >>> import pandas as pd
    >>> tags = pd.Series([{"shop": " bakery "}, {"amenity": "cafe"}, None])
    >>> tag_values(tags, "shop").tolist()
    ['bakery', None, None]
    """
    out = [tag_text(t.get(key)) if isinstance(t, dict) else None for t in tags]
    return pd.Series(out, index=tags.index, dtype=object, name=key)


def tag_text(value: Any) -> str | None:
    """An OSM tag's value as text, surrounding spaces removed; None if absent or empty.

    Examples
    --------
    >>> tag_text(" bakery "), tag_text(""), tag_text(float("nan")), tag_text(3)
    ('bakery', None, None, '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip() or None
