"""Executed chapters as HTML pages that are complete offline and call no other host.

nbconvert's pages fetch require.js, MathJax and the widget renderer from CDNs: offline, an
interactive panel shows as nothing, and online, opening the page tells third parties about it. So
before export each widget panel is replaced by a still picture of its state when the chapter ran
(its images, its words and its controls' values, from the widget state nbclient saved), the saved
state is dropped, and any script or stylesheet from another host is removed from the page.
"""

from __future__ import annotations

import html
import re
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Scripts and stylesheets from other hosts, and inline scripts that would import from one (mermaid).
_REMOTE = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>|<link[^>]*\bhref="https?://[^"]*"[^>]*>'
                     r'|<script[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*</script>',
                     re.IGNORECASE | re.DOTALL)
_CONTROLS = {"IntSliderModel", "FloatSliderModel", "DropdownModel", "CheckboxModel", "TextModel",
             "ToggleButtonsModel", "RadioButtonsModel", "SelectionSliderModel"}


def offline_page(notebook: Any) -> str:
    """The notebook (executed, nbformat node) as one HTML page that loads nothing from elsewhere."""
    from nbconvert import HTMLExporter

    state = notebook.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is not None:
                output["data"] = {"text/html": snapshot(view["model_id"], state)}
    body, _ = HTMLExporter().from_notebook_node(notebook)
    return _REMOTE.sub("", body)


def snapshot(model_id: str, state: dict[str, Any]) -> str:
    """A widget (and everything inside it) as still HTML: images as data: URIs, text as text,
    controls as 'name: value'."""
    model = state.get(model_id)
    if model is None:
        return ""
    name, values = model["model_name"], model["state"]
    if name in ("VBoxModel", "HBoxModel", "GridBoxModel", "BoxModel"):
        children = [snapshot(child.removeprefix("IPY_MODEL_"), state) for child in values.get("children", [])]
        direction = "row" if name == "HBoxModel" else "column"
        return f'<div style="display:flex;flex-direction:{direction};gap:6px">{"".join(children)}</div>'
    if name == "ImageModel":
        data = next((b["data"] for b in model.get("buffers", []) if b.get("path") == ["value"]), "")
        kind = html.escape(values.get("format", "png"))
        return f'<img style="max-width:100%" alt="" src="data:image/{kind};base64,{data}">' if data else ""
    if name in ("HTMLModel", "HTMLMathModel"):
        return str(values.get("value", ""))  # the chapter wrote it as HTML, escaping names itself
    if name == "LabelModel":
        return f"<p>{html.escape(str(values.get('value', '')))}</p>"
    if name in _CONTROLS:
        label = html.escape(str(values.get("description", "")))
        value = values.get("value", values.get("index", ""))
        if name == "DropdownModel" and "_options_labels" in values and isinstance(value, int):
            value = values["_options_labels"][value]
        return f"<p><i>{label}: {html.escape(str(value))}</i> (interactive in JupyterLab)</p>"
    return ""
