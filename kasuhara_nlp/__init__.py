"""kasuhara_nlp: find customer harassment in Japanese customer messages."""

from .labels import CATEGORIES, display_name

__version__ = "0.1.0"

__all__ = ["CATEGORIES", "display_name", "__version__"]
