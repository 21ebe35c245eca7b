"""Worked example, printed output and screenshot of the "Command line" page.

Run from the repository root to regenerate ``docs/_static/report.png``; it
trains the small model of the page, runs the page's commands in a temporary
folder, prints what they print (the output shown on the page) and
screenshots the HTML report with headless Chromium::

    python docs/report_figure.py
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")

OUT = Path(__file__).resolve().parent / "_static" / "report.png"
WIDTH, HEIGHT = 1000, 2800  # browser window, CSS pixels
MAX_BYTES = 300_000

COMMANDS = [
    ("seqimportance explain model.keras data.npz --perturbation gaussian "
     "--scale 0.2 --effect rms --random-state 0 --html report.html "
     "--json importances.json"),
    ("seqimportance explain model.keras data.csv --id id --time time "
     "--features x1,x2,x3 --perturbation gaussian --scale 0.2 --effect rms "
     "--random-state 0 --csv importances.csv --quiet"),
    ("seqimportance explain model.keras data.npz --scoring accuracy "
     "--random-state 0 --quiet"),
]
ERRORS = [
    "seqimportance explain model.keras data.npz --x inputs",
    "seqimportance explain model.keras data.csv",
    "seqimportance explain model.keras data.npz --n-repeats 0",
]


def make_example():
    """Write ``model.keras``, ``data.npz`` and ``data.csv`` in the current folder."""
    # example starts
    import keras
    import numpy as np
    import pandas as pd

    # three uniform features; the target of each timestep is x1 * x2 < 0.25,
    # so x1 and x2 matter and x3 is noise
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(400, 5, 3))
    y = (X[:, :, 0] * X[:, :, 1] < 0.25).astype(int)  # (400, 5)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((5, 3)),
        keras.layers.LSTM(8, return_sequences=True),
        keras.layers.Dense(1, activation="sigmoid"),  # one output per timestep
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy")
    model.fit(X[:280], y[:280, :, None], epochs=10, batch_size=32, verbose=0)
    model.save("model.keras")

    # the held-out sequences: as arrays, and as a long table (one row per
    # id and time)
    X_test, y_test = X[280:], y[280:]
    np.savez("data.npz", X=X_test, y=y_test, feature_names=["x1", "x2", "x3"])
    ids, times = np.indices(y_test.shape)
    pd.DataFrame({
        "id": ids.ravel(), "time": times.ravel(),
        "x1": X_test[:, :, 0].ravel(), "x2": X_test[:, :, 1].ravel(),
        "x3": X_test[:, :, 2].ravel(), "y": y_test.ravel(),
    }).to_csv("data.csv", index=False)
    # example ends


def run(command):
    """Run a command of the page as a user would; print it and its output."""
    argv = shlex.split(command)
    argv[0:1] = [sys.executable, "-m", "seqimportance"]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    print(f"$ {command}")
    print(result.stdout, end="")
    # the progress bar redraws itself with carriage returns: keep its last state
    for line in result.stderr.splitlines():
        print(line.rsplit("\r", 1)[-1])
    print(f"(exit status {result.returncode})\n")
    return result


def screenshot(html_path, png_path, profile):
    chromium = next(
        (p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                     shutil.which("google-chrome")) if p),
        None,
    )
    if chromium is None:
        sys.exit("no Chromium found: the screenshot needs a headless browser")
    subprocess.run([
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--screenshot={png_path}",
        f"--window-size={WIDTH},{HEIGHT}", html_path.resolve().as_uri(),
    ], capture_output=True, timeout=180, check=False)
    if not png_path.exists():
        sys.exit("Chromium wrote no screenshot")


def save_cropped(shot, out):
    """The page without the blank space below it, as a small palette PNG."""
    from PIL import Image, ImageChops

    image = Image.open(shot).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((0, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    if box is not None:
        image = image.crop((0, 0, image.width, min(image.height, box[3] + 24)))
    for colors in (256, 128, 64):
        image.quantize(colors=colors).save(out, optimize=True)
        if out.stat().st_size <= MAX_BYTES:
            break
    print(f"wrote {out} ({image.width}x{image.height}, "
          f"{out.stat().st_size // 1000} KB)")


def main():
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            make_example()
            for command in COMMANDS + ERRORS:
                run(command)
            print("importances.json:")
            print((folder / "importances.json").read_text())
            print("importances.csv:")
            print((folder / "importances.csv").read_text())
            screenshot(folder / "report.html", folder / "shot.png",
                       folder / "profile")
            save_cropped(folder / "shot.png", OUT)
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    main()
