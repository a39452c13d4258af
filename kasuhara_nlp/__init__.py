"""kasuhara_nlp: find customer harassment (カスタマーハラスメント) in Japanese customer messages.

>>> from kasuhara_nlp import KasuharaClassifier, CATEGORIES
>>> CATEGORIES
('abuse', 'demand', 'restraint', 'other_harassment')
"""

from .classifier import KasuharaClassifier, Prediction
from .labels import CATEGORIES, display_name
from .records import MessageRecord, ScanResult
from .segments import text_to_score

__version__ = "0.1.0"

__all__ = ["CATEGORIES", "KasuharaClassifier", "MessageRecord", "Prediction", "ScanResult", "display_name",
           "text_to_score", "__version__"]
