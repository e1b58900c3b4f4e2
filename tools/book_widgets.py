"""A live panel (ipywidgets) as the static snapshot the notebook stored, for the book (tools/book.py).

A static page has no kernel, so a widget view is drawn from `metadata.widgets[...widget-state+json]`:
boxes become flex rows or columns, HTML and Label values their text, Image widgets their stored PNG,
controls their description and value at save time. A panel with controls gets a line saying it is live
in JupyterLab; a progress bar (tqdm) is shown as its final text.
"""
from __future__ import annotations

import html

STATE_MIME = "application/vnd.jupyter.widget-state+json"
CONTROLS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel", "IntRangeSliderModel",
            "FloatRangeSliderModel", "SelectionSliderModel", "SelectionRangeSliderModel", "DropdownModel",
            "ToggleButtonsModel", "RadioButtonsModel", "SelectModel", "CheckboxModel", "ToggleButtonModel",
            "ButtonModel", "TextModel", "TextareaModel", "IntTextModel", "FloatTextModel",
            "BoundedIntTextModel", "BoundedFloatTextModel", "ComboboxModel"}
LIVE_NOTE = {
    "en": "A snapshot of a live panel, as the notebook stored it: open the notebook in JupyterLab "
          "(<code>make lab</code>) and run it to move the controls.",
    "zh": "这是实时面板的静态快照，按笔记本保存时的样子显示：在 JupyterLab 中打开本笔记本"
          "（<code>make lab LANG=zh</code>）并运行，就能拖动其中的控件。",
}
MISSING = {"en": "(a widget the notebook did not store)", "zh": "（笔记本没有保存这个控件）"}


def widget_state(notebook_metadata: dict) -> dict:
    """The stored widget models of a notebook, by model id (empty when none were saved)."""
    return notebook_metadata.get("widgets", {}).get(STATE_MIME, {}).get("state", {})


def snapshot_html(view: dict, models: dict, lang: str = "en") -> str:
    """The HTML of one widget view (`{"model_id": …}`), with the live-panel line when it has controls."""
    model_id = view.get("model_id", "")
    if model_id not in models:
        return f'<div class="book-widget book-missing">{MISSING[lang]}</div>'
    body = _render(model_id, models)
    live = any(models[m]["model_name"] in CONTROLS for m in _descendants(model_id, models))
    note = f'<p class="book-live-note">{LIVE_NOTE[lang]}</p>' if live else ""
    kind = "book-panel" if live else "book-widget"
    return f'<div class="{kind}">{body}{note}</div>'


def _child_ids(state: dict) -> list[str]:
    """The model ids of a box's children ("IPY_MODEL_<id>" references)."""
    return [child.removeprefix("IPY_MODEL_") for child in state.get("children", [])]


def _descendants(model_id: str, models: dict) -> list[str]:
    """`model_id` and every model below it."""
    found = [model_id]
    for child in _child_ids(models[model_id]["state"]):
        if child in models:
            found += _descendants(child, models)
    return found


def _hidden(state: dict, models: dict) -> bool:
    """True when the widget's layout hides it (display none or visibility hidden), as the live view would."""
    layout = models.get(str(state.get("layout", "")).removeprefix("IPY_MODEL_"), {}).get("state", {})
    return layout.get("display") == "none" or layout.get("visibility") == "hidden"


def _selected(state: dict) -> str:
    """The label a selection widget (dropdown, toggle buttons, selection slider) shows."""
    labels, index = state.get("_options_labels", []), state.get("index")
    if isinstance(index, (list, tuple)):  # range selections
        return " – ".join(labels[i] for i in index)
    return labels[index] if index is not None and 0 <= index < len(labels) else ""


def _number(state: dict) -> str:
    """A slider's or number box's value in its own readout format."""
    value = state.get("value")
    fmt = state.get("readout_format", "")
    if isinstance(value, (list, tuple)):
        return " – ".join(_format(v, fmt) for v in value)
    return _format(value, fmt)


def _format(value, fmt: str) -> str:
    try:
        return format(value, fmt)
    except (TypeError, ValueError):  # a format the value does not take: show it plainly
        return str(value)


def _control(name: str, state: dict) -> str:
    """A control as "description: value", inert."""
    if name == "ButtonModel":
        return f'<span class="book-button">{html.escape(state.get("description", ""))}</span>'
    if "_options_labels" in state:
        value = _selected(state)
    elif name in ("CheckboxModel", "ToggleButtonModel"):
        value = "✓" if state.get("value") else "✗"
    elif name in ("TextModel", "TextareaModel", "ComboboxModel"):
        value = state.get("value", "")
    else:
        value = _number(state)
    label = html.escape(state.get("description", ""))
    return (f'<span class="book-control"><span class="book-control-label">{label}</span> '
            f'<span class="book-control-value">{html.escape(str(value))}</span></span>')


def _image(state: dict, buffers: list[dict]) -> str:
    """An Image widget's stored picture as a data: URL (its bytes are a base64 buffer at path ["value"])."""
    data = next((b["data"] for b in buffers if b.get("path") == ["value"]), "")
    if not data:
        return ""
    size = "".join(f' {key}="{html.escape(str(state[key]))}"' for key in ("width", "height") if state.get(key))
    return f'<img class="book-widget-image" src="data:image/{state.get("format", "png")};base64,{data}"{size} alt="">'


def _output_widget(state: dict) -> str:
    """An Output widget's captured outputs: text, PNG or HTML."""
    parts = []
    for output in state.get("outputs", []):
        data = output.get("data", {})
        if output.get("output_type") == "stream":
            parts.append(f"<pre>{html.escape(''.join(output.get('text', '')))}</pre>")
        elif "image/png" in data:
            parts.append(f'<img src="data:image/png;base64,{data["image/png"]}" alt="">')
        elif "text/html" in data:
            parts.append("".join(data["text/html"]))
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(''.join(data['text/plain']))}</pre>")
    return "".join(parts)


def _render(model_id: str, models: dict) -> str:
    """One model and its children as static HTML."""
    model = models.get(model_id)
    if model is None:
        return ""
    name, state = model["model_name"], model["state"]
    if _hidden(state, models):
        return ""
    if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel"):
        direction = "row" if name == "HBoxModel" else "column"
        children = "".join(_render(child, models) for child in _child_ids(state))
        return f'<div class="book-box book-{direction}">{children}</div>'
    if name in ("HTMLModel", "HTMLMathModel"):
        return f'<div class="book-html">{state.get("value", "")}</div>'
    if name == "LabelModel":
        return f'<span class="book-label">{html.escape(state.get("value", ""))}</span>'
    if name == "ImageModel":
        return _image(state, model.get("buffers", []))
    if name in ("FloatProgressModel", "IntProgressModel"):
        return f'<progress value="{state.get("value", 0)}" max="{state.get("max", 100)}"></progress>'
    if name == "OutputModel":
        return f'<div class="book-output">{_output_widget(state)}</div>'
    if name in CONTROLS:
        return _control(name, state)
    return f'<span class="book-label">[{html.escape(name.removesuffix("Model"))}]</span>'
