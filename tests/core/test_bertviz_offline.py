"""The offline bertviz renderer without a browser: libraries found, scripts served, stored output small.

tests/browser/ checks that the views really draw (an <svg> inside the frame) in JupyterLab.
"""
import html
import re
import urllib.error

import pytest
import torch
from matplotlib.figure import Figure

from longctx_lab.core import bertviz_offline
from longctx_lab.core.bertviz_offline import LibrariesMissing, OfflineView, find_libraries, head_view, model_view

from ..servers import LOCAL

TOKENS = ["[CLS]", "the", "cat", "sat", "[SEP]"]


def _attention(layers=2, heads=3, length=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(1, heads, length, length, generator=generator).softmax(-1) for _ in range(layers))


def _script_urls(view: OfflineView) -> list[str]:
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', view.html).group(1))
    return re.findall(r'<script src="([^"]+)"', srcdoc)


def _fetch(url: str) -> str:
    with LOCAL.open(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/javascript")
        return response.read().decode("utf-8")


def test_find_libraries_gives_d3_5_and_jquery_from_installed_packages():
    libraries = find_libraries()
    assert set(libraries) == {"d3", "jquery"}
    assert "d3js.org v5." in libraries["d3"].read_text(encoding="utf-8")[:200]
    assert "jQuery v3" in libraries["jquery"].read_text(encoding="utf-8")[:200]


def test_find_libraries_names_the_pip_command_when_a_package_is_missing(monkeypatch):
    real_find_spec = bertviz_offline.importlib.util.find_spec
    monkeypatch.setattr(bertviz_offline.importlib.util, "find_spec",
                        lambda name: None if name == "mpld3" else real_find_spec(name))
    with pytest.raises(LibrariesMissing, match=r"d3 \(package mpld3\).*pip install mpld3 XStatic-jQuery"):
        find_libraries()


@pytest.mark.parametrize("render", [head_view, model_view])
def test_stored_output_is_a_small_shell_without_third_party_javascript_or_data(render):
    attention = _attention(layers=6, heads=12, length=64)  # a MiniLM-sized view: ~3 MB of JSON in bertviz's own output
    tokens = [f"tok{i}" for i in range(64)]
    view = render(attention, tokens, html_action="return")
    assert view.html.startswith("<iframe") and len(view.html) < 5_000
    for forbidden in ("cdnjs", "https://", "jQuery", "d3js.org", "tok17"):
        assert forbidden not in view.html, forbidden
    assert not re.search(r"\d\.\d{4}", view.html), "attention values leaked into the stored output"
    assert "kernel" in view.text


def test_same_attention_gives_the_same_stored_output_and_other_attention_another_script():
    first = head_view(_attention(seed=0), TOKENS, html_action="return")
    again = head_view(_attention(seed=0), TOKENS, html_action="return")
    other = head_view(_attention(seed=1), TOKENS, html_action="return")
    assert first.html == again.html
    assert _script_urls(first)[-1] != _script_urls(other)[-1]


def test_the_kernel_serves_d3_jquery_and_the_view_script_with_require_replaced():
    urls = _script_urls(head_view(_attention(), TOKENS, html_action="return"))
    assert len(urls) == 3 and all(url.startswith("http://127.0.0.1:") for url in urls)
    d3, jquery, view = (_fetch(url) for url in urls)
    assert "jQuery v3" in jquery[:200] and "d3js.org v5." in d3[:200]
    assert view.index("window.require = window.requirejs") < view.index("require.config(")
    assert '"sat"' in view and "bertviz-view" in view and view.rstrip().endswith("window.__bertvizRendered = true;")
    with pytest.raises(urllib.error.HTTPError, match="404"):
        LOCAL.open(urls[0].rsplit("/", 2)[0] + "/elsewhere.js", timeout=10)


def test_the_frame_loads_scripts_in_order_then_reports_and_fits_itself():
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', head_view(_attention(), TOKENS, html_action="return").html)
                           .group(1))
    assert srcdoc.index('id="bertviz-view"') < srcdoc.index("<script src=") < srcdoc.index("__bertvizRendered")
    assert "run the cell again" in srcdoc and "frameElement" in srcdoc


def test_view_mode_displays_the_frame_and_returns_nothing(monkeypatch):
    shown = []
    monkeypatch.setattr(bertviz_offline, "display", lambda obj, raw=False: shown.append(obj))
    assert head_view(_attention(), TOKENS) is None
    assert len(shown) == 1 and isinstance(shown[0], OfflineView)
    shown[0]._ipython_display_()
    assert shown[1]["text/html"].startswith("<iframe") and "text/plain" in shown[1]


def test_without_the_libraries_a_static_heatmap_and_one_line_say_why(monkeypatch):
    def missing():
        raise LibrariesMissing("bertviz needs d3 (package mpld3) to render offline: pip install mpld3 XStatic-jQuery")

    monkeypatch.setattr(bertviz_offline, "find_libraries", missing)
    view = head_view(_attention(heads=3), TOKENS, layer=1, html_action="return")
    assert isinstance(view.figure, Figure) and len(view.figure.axes) == 3
    assert "static heatmap of layer 1" in view.text and "pip install mpld3" in view.text
    assert "<iframe" not in view.html and "pip install mpld3" in view.html


def test_bad_html_action_is_a_clear_error():
    with pytest.raises(ValueError, match="html_action"):
        head_view(_attention(), TOKENS, html_action="show")


def test_the_fallback_shows_the_first_included_layer_when_no_layer_is_named(monkeypatch):
    def missing():
        raise LibrariesMissing("no d3")

    monkeypatch.setattr(bertviz_offline, "find_libraries", missing)
    view = model_view(_attention(layers=3, heads=2), TOKENS, include_layers=[2], html_action="return")
    assert "layer 2" in view.text and len(view.figure.axes) == 2
