"""Make ``import kasuhara_nlp`` work under plain ``pytest`` without ``pip install -e .``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
