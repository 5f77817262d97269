"""Size and time to first paint of map.html in headless Chromium: every building in the
page (``lazy_buildings=None``, as before) against buildings loaded by area (the default).

    PYTHONPATH=src python benchmarks/map_load.py OUT_DIR... [--rounds 3]

Each OUT_DIR is a run's output folder (``vitality.gpkg`` and ``run.json``). For each, both
maps are written into a temporary folder and opened ``--rounds`` times each (alternating)
in a fresh tab of one headless Chromium (Debian's ``chromium`` and ``chromedriver``;
``$CHROMIUM``, ``$CHROMEDRIVER`` override the paths), 1366×768. Reported: the page's size,
the detail files' size, the bytes the first view loads, the first contentful paint and the
load event (ms after navigation start, median), and for the lazy map the time until the
buildings of a zoom-16 view at the centre are drawn. Prints a Markdown table row per map.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rakennettu.outputs.map import build_map, write_map
from rakennettu.outputs.pages import _read_layers
from rakennettu.outputs.record import read_record

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
MAP_VAR = "window[document.querySelector('.folium-map').id]"


def _driver(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-dev-shm-usage",
                "--window-size=1366,768", f"--user-data-dir={profile}"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(300)
    return driver


def _wait(driver: Any, script: str, timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if driver.execute_script(script):
            return time.perf_counter() - start
        time.sleep(0.02)
    raise TimeoutError(script)


def _open(driver: Any, page: Path) -> dict[str, float]:
    driver.get("about:blank")
    driver.get(page.as_uri())  # returns after the load event
    _wait(driver, "return document.querySelector('.leaflet-control-layers') !== null")
    _wait(driver, "return performance.getEntriesByType('paint').length > 1", timeout=20)
    t = driver.execute_script(
        "var p = performance.getEntriesByType('paint').filter(e => e.name === "
        "'first-contentful-paint')[0]; var n = performance.getEntriesByType('navigation')[0];"
        "return {fcp: p ? p.startTime : null, load: n.loadEventEnd};"
    )
    return {"fcp": float(t["fcp"]), "load": float(t["load"])}


def _detail(driver: Any) -> float:
    """Seconds from a zoom-16 view at the map's centre until its buildings are drawn."""
    driver.execute_script(f"{MAP_VAR}.setZoom(16, {{animate: false}})")
    return _wait(
        driver,
        "var p = document.querySelector('.leaflet-rk-buildings-pane');"
        "return p && p.querySelectorAll('path').length > 0",
    )


def _size(folder: Path) -> tuple[int, int]:
    page = (folder / "map.html").stat().st_size
    files = sum(p.stat().st_size for p in (folder / "map_files").glob("*.js"))
    return page, files


def measure(out_dir: Path, rounds: int, driver: Any) -> list[str]:
    layers = _read_layers(out_dir / "vitality.gpkg")
    record = read_record(out_dir / "run.json")
    n = len(layers.get("buildings", []))
    town = str((record.get("town") or {}).get("name") or out_dir.name)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for label, lazy in (("all in the page", None), ("by area", 2500)):
            folder = Path(tmp) / label.replace(" ", "-")
            folder.mkdir()
            started = time.process_time()
            write_map(build_map(layers, title=town, record=record,
                                lazy_buildings=lazy), folder / "map.html")  # fmt: skip
            folders[label] = (folder, time.process_time() - started)
        times: dict[str, list[dict[str, float]]] = {k: [] for k in folders}
        for _ in range(rounds):
            for label, (folder, _cpu) in folders.items():
                times[label].append(_open(driver, folder / "map.html"))
        for label, (folder, cpu) in folders.items():
            page, files = _size(folder)
            fcp = statistics.median(t["fcp"] for t in times[label])
            load = statistics.median(t["load"] for t in times[label])
            detail = "–"
            if files:
                _open(driver, folder / "map.html")
                detail = f"{_detail(driver) * 1000:.0f}"
            rows.append(
                f"| {town} | {n:,} | {label} | {page / 1024:,.0f} | "
                f"{files / 1024:,.0f} | {fcp:,.0f} | {load:,.0f} | {detail} | {cpu:.1f} |"
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dirs", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| town | buildings | buildings | map.html KiB | map_files KiB | first paint ms "
          "| load ms | zoom-16 buildings ms | build CPU s |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as profile:
        driver = _driver(Path(profile))
        try:
            for out in args.out_dirs:
                for row in measure(out, args.rounds, driver):
                    print(row, flush=True)
        finally:
            driver.quit()
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
