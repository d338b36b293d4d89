"""The Snakemake report's own pages and its check in a real browser.

Snakemake's HTML report shows images, PDFs and HTML inline but offers other files (TSV, JSON) only as downloads.
:func:`table_html` and :func:`provenance_html` turn the summary tables and the run's provenance into small
self-contained HTML pages that the report shows as they are. :func:`check_report` opens a built report in headless
Chromium, as a reader would, and says from the page itself whether every section is there and every figure
decodes; :func:`screenshot_report` draws one result of it to a PNG (the README's picture).

The browser side uses Playwright with the system's Chromium (Debian's ``chromium`` package); neither is needed to
run the workflow, only to check or picture a report.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

_STYLE = """
body { font-family: system-ui, sans-serif; font-size: 13px; margin: 8px; color: #222; }
h1 { font-size: 15px; margin: 4px 0 8px; }
p.note { color: #555; margin: 0 0 8px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #eef2f7; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fafafa; }
pre { background: #f6f6f6; padding: 6px; font-size: 12px; }
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def _table(table: pd.DataFrame) -> str:
    return table.to_html(index=False, na_rep="NaN", float_format=lambda x: f"{x:.4g}", border=0, escape=True)


def table_html(table: pd.DataFrame, title: str, note: str = "") -> str:
    """One table as a self-contained HTML page: a sticky header, numbers to 4 significant digits, text escaped.

    Parameters
    ----------
    table : pandas.DataFrame
    title : str
        The page's heading.
    note : str
        A line under the heading (escaped), for example where the full-precision table is.

    Returns
    -------
    str
        The HTML document.
    """
    return _page(title, (f'<p class="note">{html.escape(note)}</p>\n' if note else "") + _table(table))


def provenance_html(record: dict) -> str:
    """The run's provenance (:func:`amodal.provenance.record`) as an HTML page: the code (amodal's version, git
    commit), the master seed, the library versions as a table, and the resolved config as YAML."""
    import yaml

    git = record.get("git") or {}
    commit = git.get("commit") or "not a git checkout"
    if git.get("dirty"):
        commit += " (with uncommitted changes to tracked files)"
    facts = pd.DataFrame({"what": ["amodal", "git commit", "master seed", "written (UTC)"],
                          "value": [record.get("amodal_version"), commit, record.get("master_seed"),
                                    record.get("written")]})
    libs = pd.DataFrame({"library": list(record["versions"]),
                         "version": [str(v) for v in record["versions"].values()]})
    cfg = yaml.safe_dump(record.get("config", {}), sort_keys=False, default_flow_style=None)
    return _page("Provenance of this run", _table(facts) + "<h2>Library versions</h2>" + _table(libs)
                 + f"<h2>Config (resolved, as the run used it)</h2><pre>{html.escape(cfg)}</pre>")


def write_table_html(tsv, out, title: str) -> None:
    """Read ``tsv`` and write it as :func:`table_html` at ``out``, with a note naming the TSV.

    Parameters
    ----------
    tsv : str or Path
        A tab-separated table with a header row.
    out : str or Path
        The HTML page to write.
    title : str
        Its heading.
    """
    table = pd.read_csv(tsv, sep="\t")
    Path(out).write_text(table_html(table, title, note=f"{len(table)} rows; full precision in {tsv}"))


# --------------------------------------------------------------------------------------------------- browser

CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
"""Chromium's flags here: no sandbox (root in CI), and none of its background connections (the machine has no
network; without these flags Chromium opens many refused connections at start)."""


def _browser(chromium: str | None):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        raise ImportError("checking a report needs Playwright: pip install 'amodal[test]' (or playwright)") from e
    import shutil

    exe = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise FileNotFoundError("no Chromium found: install Debian's package (apt-get install chromium) or pass "
                                "its path")
    return sync_playwright, exe


# Runs in the page: the report's own data (the `categories` and `results` globals of Snakemake's template).
_PAGE_FACTS = """() => ({
  categories: Object.fromEntries(Object.entries(categories).map(([c, subs]) =>
      [c, Object.fromEntries(Object.entries(subs).map(([s, items]) => [s, items.length]))])),
  results: Object.fromEntries(Object.entries(results).map(([p, r]) => [p, r.mime_type])),
  captions: Object.fromEntries(Object.entries(results).map(([p, r]) => {
    const div = document.createElement("div"); div.innerHTML = r.caption || ""; return [p, div.innerText.trim()];
  })),
})"""

# Shows one result in the content pane, as the reader's click on its eye button does (ButtonViewManager).
_SHOW = """(p) => app.setView({navbarMode: "resultinfo", resultPath: p, contentPath: results[p].data_uri,
                        content: results[p].mime_type.startsWith("image/") ? "img" : "html"})"""

# The shown image, once the browser has it (null while loading): its pixel size and the mean of each channel
# (R, G, B, alpha; 0-255) of what the browser drew. A size alone is not enough: Chromium draws a truncated PNG at
# its full size, with the missing rows left empty.
_SHOWN_IMAGE = """(p) => {
  const img = [...document.querySelectorAll("#app img")].find(i => i.src === results[p].data_uri);
  if (!img || !img.complete) return null;
  const w = img.naturalWidth, h = img.naturalHeight;
  if (w === 0 || h === 0) return [0, 0, 0, 0, 0, 0];
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, w, h).data, sums = [0, 0, 0, 0];
  for (let i = 0; i < px.length; i += 4) { for (let c = 0; c < 4; c++) sums[c] += px[i + c]; }
  return [w, h, ...sums.map(s => s / (w * h))];
}"""


def _open(pw, exe, report, timeout_ms, viewport=(1400, 900)):
    browser = pw.chromium.launch(executable_path=exe, headless=True, args=list(CHROMIUM_ARGS))
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(Path(report).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
    # the report is a React app: it has rendered when its loading screen is gone and its menu has text
    page.wait_for_selector("#loading-screen", state="hidden", timeout=timeout_ms)
    page.wait_for_function("document.querySelector('#app').innerText.trim().length > 0", timeout=timeout_ms)
    return browser, page, errors


def _show(page, path, timeout_ms) -> list | str:
    """Show result ``path``; an image's ``[width, height, mean R, G, B, alpha]`` once drawn, or an HTML page's
    heading."""
    page.evaluate(_SHOW, path)
    if page.evaluate("(p) => results[p].mime_type", path).startswith("image/"):
        handle = page.wait_for_function(_SHOWN_IMAGE, arg=path, timeout=timeout_ms)
        return handle.json_value()
    page.wait_for_selector("#app iframe", timeout=timeout_ms)
    return page.frame_locator("#app iframe").locator("h1").inner_text(timeout=timeout_ms)


def check_report(report, screenshot=None, chromium: str | None = None, timeout_ms: int = 60_000) -> dict:
    """Open ``report`` in headless Chromium and read, from the rendered page, what a reader would see.

    The page must render (Snakemake's report is a React app: its menu appears once its scripts ran). Then each
    image and HTML result is shown in the content pane, as a click on its eye button shows it, and the browser
    says whether it loaded: an image's pixel size and the mean of each channel it drew (zeros when it failed to
    decode), an HTML page's heading.

    Parameters
    ----------
    report : str or Path
        A report built by ``snakemake --report``.
    screenshot : str or Path, optional
        Where to save a PNG of the page, with the first image result shown and its section's menu open.
    chromium : str, optional
        The Chromium executable (default: ``chromium`` on the PATH).
    timeout_ms : int

    Returns
    -------
    dict
        ``categories`` (``{category: {subcategory: n_results}}``), ``images`` (``{path: [width, height, mean R,
        mean G, mean B, mean alpha]}``),
        ``pages`` (``{path: heading}``, the HTML results), ``downloads`` (the other results' paths),
        ``captions`` (``{path: caption text}``, as rendered from each result's caption),
        ``menu_text`` (the rendered menu's text) and ``errors`` (uncaught errors of the page's scripts).
    """
    sync_playwright, exe = _browser(chromium)
    with sync_playwright() as pw:
        browser, page, errors = _open(pw, exe, report, timeout_ms)
        try:
            facts = page.evaluate(_PAGE_FACTS)
            facts["menu_text"] = page.inner_text("#app")
            mimes = facts.pop("results")
            facts["images"], facts["pages"], facts["downloads"] = {}, {}, []
            for path, mime in sorted(mimes.items()):
                if mime.startswith("image/"):
                    facts["images"][path] = _show(page, path, timeout_ms)
                elif mime == "text/html":
                    facts["pages"][path] = _show(page, path, timeout_ms)
                else:
                    facts["downloads"].append(path)
            if screenshot is not None and facts["images"]:
                # the first section that has a figure, opened in the menu, and that figure shown
                cats = page.evaluate("categories")
                cat, first = next((c, p) for c in sorted(cats) for items in cats[c].values() for p in items
                                  if p in facts["images"])
                page.evaluate("(c) => app.showCategory(c)", cat)
                _show(page, first, timeout_ms)
                page.screenshot(path=str(screenshot))
            facts["errors"] = errors
        finally:
            browser.close()
    return facts


def screenshot_result(report, name: str, out, chromium: str | None = None, timeout_ms: int = 60_000,
                      viewport=(1280, 720)) -> None:
    """Save a PNG of one result of ``report`` as the report shows it, beside its caption: the README's picture.

    Parameters
    ----------
    report : str or Path
        A report built by ``snakemake --report``.
    name : str
        The result's file name, e.g. ``fig9_modality_invariant.png``.
    out : str or Path
        The PNG to write.
    chromium : str, optional
        The Chromium executable (default: ``chromium`` on the PATH).
    timeout_ms : int
    viewport : tuple of int
        The browser window's width and height in pixels.
    """
    sync_playwright, exe = _browser(chromium)
    with sync_playwright() as pw:
        browser, page, _ = _open(pw, exe, report, timeout_ms, viewport)
        try:
            path = page.evaluate("(n) => Object.keys(results).find(p => p.split('/').pop() === n) || null", name)
            if path is None:
                raise KeyError(f"{report}: no result named {name}")
            _show(page, path, timeout_ms)
            page.screenshot(path=str(out))
        finally:
            browser.close()


def main(argv=None) -> None:
    """``python -m amodal.reporting REPORT [--screenshot PNG] [--result NAME --out PNG]``: check a built report
    in headless Chromium and print what it found; or picture one result (the README's figure)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m amodal.reporting", description=main.__doc__)
    ap.add_argument("report")
    ap.add_argument("--screenshot", help="PNG of the page with its first section open")
    ap.add_argument("--result", help="the name of one result to picture (with --out)")
    ap.add_argument("--out", help="where to write that picture")
    a = ap.parse_args(argv)
    if a.result:
        screenshot_result(a.report, a.result, a.out or f"{Path(a.result).stem}_report.png")
        return
    facts = check_report(a.report, a.screenshot)
    facts.pop("menu_text")
    print(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main()
