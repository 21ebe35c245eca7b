"""The HTML report as a user sees it: rendered by a real headless browser.

Needs Chromium (``/usr/bin/chromium``, which ``.ci/run`` installs where it
can); skipped where there is none.
"""

import shutil
import subprocess

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from seqimportance import SequencePermutationImportance, report

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

CHROMIUM = next(
    (path for path in (shutil.which("chromium"), shutil.which("chromium-browser"),
                       shutil.which("google-chrome")) if path),
    None,
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")

WIDTH, HEIGHT = 1200, 1600


def _screenshot(html_path, png_path, profile):
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--screenshot={png_path}",
        f"--window-size={WIDTH},{HEIGHT}", html_path.resolve().as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert png_path.exists(), "Chromium wrote no screenshot"
    return np.asarray(Image.open(png_path).convert("L"), dtype=float)


@pytest.fixture(scope="module")
def perm():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = 3 * X[:, 0] + X[:, 1]
    return SequencePermutationImportance(
        LinearRegression().fit(X, y), n_iter=5, random_state=0,
        feature_names=["speed", "load", "noise", "humidity"],
    ).fit(X, y)


def test_report_renders_with_a_visible_table(perm, tmp_path):
    text = report(perm)
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    # the same page with the table hidden: where the two differ is the table
    hidden = tmp_path / "hidden.html"
    hidden.write_text(
        text.replace("</style>", "table.importances { visibility: hidden; }</style>"),
        encoding="utf-8",
    )
    shot = _screenshot(page, tmp_path / "report.png", tmp_path / "profile1")
    without = _screenshot(hidden, tmp_path / "hidden.png", tmp_path / "profile2")
    assert shot.shape == without.shape == (HEIGHT, WIDTH)
    # not blank: a white page has no variance; text, table and figure do
    assert shot.std() > 10
    assert (shot < 100).mean() > 0.002  # dark text
    # the table is visible: it changes a block of the page, near its top,
    # and that block holds dark text (the numbers) on a light background
    rows, cols = np.nonzero(np.abs(shot - without) > 40)
    assert rows.size > 2000
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    assert top < HEIGHT / 2 and bottom - top > 100 and right - left > 300
    region = shot[top:bottom + 1, left:right + 1]
    assert (region < 100).mean() > 0.01
    assert np.median(region) > 200
