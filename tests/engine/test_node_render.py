"""Rendering a node's config text: the joined result of many expressions is bounded too."""

from __future__ import annotations

import pytest

from agentflow.engine.nodes.context import render_checked
from agentflow.engine.variables import MAX_RENDERED_LENGTH, TemplateRenderError


def test_joined_text_is_bounded_even_when_each_expression_is_not_over() -> None:
    half = "x" * (MAX_RENDERED_LENGTH // 2 + 1)
    context = {"vars": {"half": half}}
    assert render_checked("{{vars.half}}", context, "config.text") == half  # one alone is fine
    with pytest.raises(TemplateRenderError) as raised:
        render_checked("{{vars.half}}-{{vars.half}}", context, "config.text")
    assert raised.value.code == "TEMPLATE_TOO_LARGE" and "config.text" in str(raised.value)


def test_text_under_the_limit_renders_whole() -> None:
    context = {"vars": {"name": "Ada", "items": [1, 2]}}
    assert render_checked("Hi {{vars.name}}: {{vars.items}}", context, "p") == "Hi Ada: [1, 2]"
