"""A Japanese font for matplotlib, so that category names do not render as empty boxes (tofu).

matplotlib's default font (DejaVu Sans) has no Japanese glyphs.  :func:`setup_japanese_font` registers
one and puts it first in ``font.sans-serif``.  Order of preference:

1. IPAexGothic shipped by the PyPI package ``matplotlib-fontja`` (in the ``notebook`` extra), found
   without importing that package, because importing it rewrites rcParams as a side effect;
2. a Japanese font matplotlib already knows from the system (Debian: ``apt-get install fonts-noto-cjk``
   or ``fonts-ipaexfont``; macOS and Windows fonts by name);
3. none: a :class:`JapaneseFontWarning` says how to install one, and plots still render.

>>> name = setup_japanese_font(warn=False)
>>> name is None or isinstance(name, str)
True
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

#: Family names of fonts with Japanese glyphs that may already be installed, best first.
SYSTEM_FONTS = ("IPAexGothic", "Noto Sans CJK JP", "Noto Sans JP", "IPAGothic", "TakaoGothic", "VL Gothic",
                "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo", "MS Gothic")
BUNDLED_PACKAGE = "matplotlib_fontja"
BUNDLED_FILE = Path("fonts") / "ipaexg.ttf"

_chosen: list[str | None] = []  # cache: registering twice is harmless but costs a font scan


class JapaneseFontWarning(UserWarning):
    """No Japanese font was found: Japanese text in plots will show as boxes."""


def bundled_font_file() -> Path | None:
    """The IPAexGothic file of the ``matplotlib-fontja`` package, if it is installed.

    >>> path = bundled_font_file()
    >>> path is None or path.name == "ipaexg.ttf"
    True
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / BUNDLED_FILE
        if path.is_file():
            return path
    return None


def _use(name: str) -> str:
    import matplotlib

    rest = [f for f in matplotlib.rcParams["font.sans-serif"] if f != name]
    matplotlib.rcParams["font.family"] = ["sans-serif"]
    matplotlib.rcParams["font.sans-serif"] = [name, *rest]
    # Japanese fonts often lack U+2212 MINUS SIGN: use the ASCII hyphen for negative tick labels.
    matplotlib.rcParams["axes.unicode_minus"] = False
    return name


def setup_japanese_font(*, warn: bool = True) -> str | None:
    """Register a Japanese font with matplotlib, make it the default, and return its family name.

    Changes matplotlib's rcParams for the whole process (that is the point: a notebook's own plots
    get Japanese labels too).  Returns None, with a :class:`JapaneseFontWarning` unless ``warn`` is
    False, when no Japanese font can be found.

    >>> setup_japanese_font(warn=False) in (None, *SYSTEM_FONTS)
    True
    """
    from matplotlib import font_manager

    if _chosen:
        return _use(_chosen[0]) if _chosen[0] else None
    name: str | None = None
    bundled = bundled_font_file()
    if bundled is not None:
        font_manager.fontManager.addfont(str(bundled))
        name = font_manager.FontProperties(fname=str(bundled)).get_name()
    else:
        known = {f.name for f in font_manager.fontManager.ttflist}
        name = next((f for f in SYSTEM_FONTS if f in known), None)
    _chosen.append(name)
    if name is None:
        if warn:
            warnings.warn(
                "no Japanese font found for matplotlib: Japanese labels in plots will show as boxes. "
                "Fix: pip install -e '.[notebook]' (brings matplotlib-fontja with IPAexGothic), or "
                "apt-get install fonts-noto-cjk and delete matplotlib's font cache (~/.cache/matplotlib).",
                JapaneseFontWarning, stacklevel=2)
        return None
    return _use(name)
