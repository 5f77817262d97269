"""Headless Chromium for the tests: start it, wait for the page, compare strings to catalogues.

Needs Debian's ``chromium`` and ``chromedriver`` (``apt-get install -y chromium
chromium-driver``); the paths can be overridden with ``$CHROMIUM`` and ``$CHROMEDRIVER``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
LOCALE = Path(__file__).resolve().parent.parent / "src" / "rakennettu" / "locale"
#: Where the screenshots go when $RAKENNETTU_SCREENSHOTS is set (to "docs/images", say).
SCREENSHOTS = os.environ.get("RAKENNETTU_SCREENSHOTS")


def start_chromium(profile: Path, size: tuple[int, int] = (1280, 900)):
    """A headless Chromium driven by selenium, or skip the test with the reason."""
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not (Path(exe).is_file() or shutil.which(exe)):
            pytest.skip(f"needs {exe}: apt-get install -y chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--window-size={size[0]},{size[1]}", "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        f"--user-data-dir={profile}",
    ):  # fmt: skip
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


def viewport(driver, width: int, height: int) -> None:
    """Make the page's viewport exactly ``width`` × ``height`` CSS pixels."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def wait(driver, script: str, timeout: float = 15.0):
    """Run ``script`` until it returns something true; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def keep_screenshot(driver, name: str, tmp: Path) -> Path:
    """Save a PNG of the viewport: in ``$RAKENNETTU_SCREENSHOTS`` when set, else in ``tmp``."""
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    small_png(driver.get_screenshot_as_png(), path)
    return path


def small_png(png: bytes, path: Path) -> None:
    """Write a screenshot with 256 colours at most (a quarter of the size, for docs/)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        im.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)


def catalogue_patterns(code: str) -> list[re.Pattern[str]]:
    """A pattern per message of a catalogue (its translation; the English id when empty)."""
    with (LOCALE / code / "LC_MESSAGES" / "rakennettu.po").open("rb") as f:
        catalogue = read_po(f, locale=code)
    texts: list[str] = []
    for m in catalogue:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        texts += [s or i for s, i in zip(strings, ids, strict=False)] if any(strings) else ids
    out = []
    for text in texts:
        parts = re.split(r"\{\w*\}", text.strip(":;.,—– "))  # as the page's pieces are
        body = "(.+?)".join(re.escape(re.sub(r"\s+", " ", p)) for p in parts)  # keep the spaces
        out.append(re.compile(body))
    return out


_NUMERIC = re.compile(r"^[\d\s\u00a0\u202f,.\-–−%/]+")
_SCALE = re.compile(r"^\d+ (m|km)$")  # Leaflet's scale bar
_PUNCT = ":;.,—– "
_SEPARATORS = (" · ", "; ", ": ", "\n")


def foreign_strings(texts: list[str], code: str, data: set[str]) -> list[str]:
    """The texts on a page that are neither a message of the catalogue nor data.

    A text passes when it is one of ``data`` (names from the map's layers), a number,
    a range or a scale, or a message of the ``code`` catalogue with its fields filled
    in with anything, possibly after a leading number ("2. ", "0,0–0,2 "); else when its
    pieces between separators (" · ", "; ", ": ") pass each.
    """
    patterns = catalogue_patterns(code)

    def atom(piece: str) -> bool:
        piece = " ".join(piece.split()).strip(_PUNCT)
        if not piece or piece in data or _NUMERIC.fullmatch(piece) or _SCALE.fullmatch(piece):
            return True
        rest = _NUMERIC.sub("", piece).strip(_PUNCT)
        for text in (piece, rest):
            if text and (text in data or any(p.fullmatch(text) for p in patterns)):
                return True
        return False

    def known(piece: str, depth: int = 0) -> bool:
        if atom(piece):
            return True
        for sep in _SEPARATORS[depth:]:
            if sep in piece:
                i = _SEPARATORS.index(sep)
                return all(known(p, i + 1) for p in piece.split(sep))
        return False

    return [t for t in texts if not known(t)]


def print_pdf(driver) -> bytes:
    """The loaded page printed to PDF by Chromium, on A4 paper."""
    import base64

    from selenium.webdriver.common.print_page_options import PrintOptions

    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7  # cm
    return base64.b64decode(driver.print_page(options))


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF: its page objects (``/Type /Page``, not the ``/Pages`` tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
