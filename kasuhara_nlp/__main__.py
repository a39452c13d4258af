"""`python -m kasuhara_nlp` runs the `kasuhara` command."""

import sys

from .cli import main

sys.exit(main())
