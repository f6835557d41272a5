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
STILL = ('<p><small><i>A still picture of this panel as the chapter left it: its controls and results '
         "are interactive in JupyterLab.</i></small></p>")
# Controls whose state keeps the chosen option's position among `_options_labels` (the position is left out
# of the state when it is the first), not its value.
_CHOICES = {"DropdownModel", "ToggleButtonsModel", "RadioButtonsModel", "SelectionSliderModel"}
_CONTROLS = {"IntSliderModel", "FloatSliderModel", "TextModel", "DatePickerModel"} | _CHOICES


def offline_page(notebook: Any) -> str:
    """The notebook (executed, nbformat node) as one HTML page that loads nothing from elsewhere."""
    from nbconvert import HTMLExporter

    state = notebook.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is not None:
                output["data"] = {"text/html": STILL + snapshot(view["model_id"], state)}
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
        direction = "row" if name in ("HBoxModel", "GridBoxModel") else "column"  # a grid: cards side by side
        wrap = "wrap" if name == "GridBoxModel" else "nowrap"
        style = f"display:flex;flex-direction:{direction};flex-wrap:{wrap};gap:6px"
        return f'<div style="{style}">{"".join(children)}</div>'
    if name == "ImageModel":
        data = next((b["data"] for b in model.get("buffers", []) if b.get("path") == ["value"]), "")
        kind = html.escape(values.get("format", "png"))
        width = html.escape(str(_layout(values, state).get("width") or "100%"))
        return f'<img style="max-width:{width}" alt="" src="data:image/{kind};base64,{data}">' if data else ""
    if name in ("HTMLModel", "HTMLMathModel"):
        return str(values.get("value", ""))  # the chapter wrote it as HTML, escaping names itself
    if name == "LabelModel":
        return f"<p>{html.escape(str(values.get('value', '')))}</p>"
    if name in ("ButtonModel", "FileUploadModel"):
        return f"<button disabled>{html.escape(str(values.get('description', '')))}</button>"
    if name == "CheckboxModel":
        mark = "&#9745;" if values.get("value") else "&#9744;"
        return f"<p>{mark} {html.escape(str(values.get('description', '')))}</p>"
    if name in _CONTROLS:
        return _control(name, values)
    return ""


def _layout(values: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The layout settings (width, grid columns ...) a widget refers to."""
    reference = str(values.get("layout", "")).removeprefix("IPY_MODEL_")
    return state.get(reference, {}).get("state", {})


def _control(name: str, values: dict[str, Any]) -> str:
    """A control as 'name: value'; an empty one shows its hint, as the live panel does."""
    label = html.escape(str(values.get("description", "")))
    value = values.get("value", "")
    if name in _CHOICES:
        labels, index = values.get("_options_labels") or [], values.get("index", 0)
        value = labels[index] if isinstance(index, int) and index < len(labels) else "(none chosen)"
    if value in ("", None):
        shown = f'<span style="color:#888">{html.escape(str(values.get("placeholder") or "(empty)"))}</span>'
    else:
        shown = html.escape(str(value))
    hint = values.get("tooltip") or values.get("description_tooltip")  # what the live panel says on hovering
    said = f' <small style="color:#888">({html.escape(str(hint))})</small>' if hint else ""
    return f"<p><i>{label}:</i> {shown}{said}</p>"
