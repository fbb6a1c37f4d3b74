"""A real headless Chromium (Debian's `chromium` and `chromium-driver`) driven
through selenium, cut off from every network but this host's loopback: a page
that needs anything from elsewhere (a CDN) fails to draw here.

`.ci/run` installs both packages; without them a test fails under CI=true
(a skip there would hide that the page was never tried) and skips elsewhere.
"""

import os
import shutil
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def _found() -> tuple[str, str]:
    binary = next((p for n in CHROMIUM if (p := shutil.which(n))), None)
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        binary = None
    if binary and driver:
        return binary, driver
    why = (
        "the status page tests need Chromium, chromedriver and selenium: "
        "apt-get install chromium chromium-driver (`.ci/run` does), then `make install`"
    )
    if IN_CI:
        pytest.fail(why)
    pytest.skip(why)


class Browser:
    def __init__(
        self, workdir: Path, width: int = 1400, height: int = 900, *, also: tuple[str, ...] = ()
    ) -> None:
        """`also`: addresses beside loopback the browser may reach (this host's own)."""
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        binary, driver = _found()
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for arg in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={workdir / 'chromium'}",
            f"--window-size={width},{height}",
            # Offline: every name but loopback fails to resolve, no proxy, no updates.
            "--host-resolver-rules=MAP * ~NOTFOUND , "
            + " , ".join(f"EXCLUDE {h}" for h in ("localhost", "127.0.0.1", *also)),
            "--no-proxy-server",
            "--disable-background-networking",
            "--disable-component-update",
        ):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(options=options, service=Service(driver))
        self.driver.set_page_load_timeout(30)

    def open(self, url: str) -> "Browser":
        self.driver.get(url)
        return self

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def text(self, css: str) -> str:
        return self.js(
            "const n = document.querySelector(arguments[0]); return n ? n.innerText : ''", css
        )

    def resize(self, width: int, height: int = 900) -> None:
        self.driver.set_window_size(width, height)

    def viewport_width(self) -> int:
        return self.js("return document.documentElement.clientWidth")

    def screenshot(self, path: Path) -> Path:
        """The whole page, however long (Chromium's full-page capture through CDP)."""
        import base64

        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"captureBeyondViewport": True, "format": "png"}
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        self.driver.quit()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Everything that is laid out wrong, as JavaScript finds it: text cut off or
# wider than its box, boxes out of the viewport, cards or label/value pairs on
# top of each other. An empty list is a page without overlaps.
LAYOUT_FAULTS = """
const faults = [];
const width = document.documentElement.clientWidth;
const r = (n) => n.getBoundingClientRect();
const name = (n) => n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') +
  (n.className && typeof n.className === 'string' ? '.' + n.className.split(' ')[0] : '');
const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
  a.top < b.bottom - 1 && b.top < a.bottom - 1;
if (document.documentElement.scrollWidth > width + 1)
  faults.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width);
for (const n of document.querySelectorAll('header *, h2, .card, .card *, footer')) {
  const b = r(n);
  if (b.width === 0 && b.height === 0) continue;
  if (b.left < -1 || b.right > width + 1) faults.push(name(n) + ' leaves the viewport');
  if (n.scrollWidth > n.clientWidth + 1 && getComputedStyle(n).overflowX !== 'visible')
    faults.push(name(n) + ' cuts its content off');
}
const cards = [...document.querySelectorAll('.card')];
for (let i = 0; i < cards.length; i++)
  for (let j = i + 1; j < cards.length; j++)
    if (meet(r(cards[i]), r(cards[j]))) faults.push(name(cards[i]) + ' overlaps ' + name(cards[j]));
for (const card of cards) {
  const parts = [...card.querySelectorAll(':scope > h3, :scope > .headline, dt, dd, .chart')];
  for (let i = 0; i < parts.length; i++)
    for (let j = i + 1; j < parts.length; j++)
      if (meet(r(parts[i]), r(parts[j])))
        faults.push(name(parts[i]) + ' overlaps ' + name(parts[j]) + ' in ' + name(card));
}
return faults;
"""
