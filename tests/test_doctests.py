"""Run the >>> examples of the input-stage, label, data, feedback and routing modules, so the documented behaviour stays true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "kasuhara_nlp.labels",
    "kasuhara_nlp.data",
    "kasuhara_nlp.datacard",
    "kasuhara_nlp.records",
    "kasuhara_nlp.forms",
    "kasuhara_nlp.corrections",
    "kasuhara_nlp.feedback",
    "kasuhara_nlp.routing.router",
    "kasuhara_nlp.scan_output",
    "kasuhara_nlp.votes",
    "kasuhara_nlp.blend",
    "kasuhara_nlp.bert_train",
    "kasuhara_nlp.segments",
    "kasuhara_nlp.turns",
    "kasuhara_nlp.pii",
    "kasuhara_nlp.pii_mail",
    "kasuhara_nlp.pii_names",
    "kasuhara_nlp.conversation",
    "kasuhara_nlp.conversation_store",
    "kasuhara_nlp.evidence",
    "kasuhara_nlp.normalize",
    "kasuhara_nlp.similarity",
    "kasuhara_nlp.readers",
    "kasuhara_nlp.readers.charset",
    "kasuhara_nlp.readers.chat",
    "kasuhara_nlp.readers.columns",
    "kasuhara_nlp.readers.common",
    "kasuhara_nlp.readers.csvrows",
    "kasuhara_nlp.readers.detect",
    "kasuhara_nlp.readers.html",
    "kasuhara_nlp.readers.mail",
    "kasuhara_nlp.readers.mime",
    "kasuhara_nlp.readers.presets",
    "kasuhara_nlp.readers.streams",
    "kasuhara_nlp.readers.tabular",
    "kasuhara_nlp.readers.timestamps",
    "kasuhara_nlp.readers.zendesk",
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
