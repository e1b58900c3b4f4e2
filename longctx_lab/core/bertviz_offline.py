"""bertviz's head and model views, rendered offline: no CDN, first time, in JupyterLab, Notebook and Voila.

bertviz loads require.js, d3 5 and jQuery from a CDN, so without internet its views stay blank. Here
the same views are drawn in a self-contained `<iframe srcdoc=...>` whose scripts come from a tiny
HTTP server that this kernel runs on 127.0.0.1: d3 5.7 from the installed `mpld3` package, jQuery
from `XStatic-jQuery`, and bertviz's own drawing code with the attention data. The stored cell
output is only the iframe shell (a few KB, no third-party JavaScript, no attention data); the
scripts live in the running kernel, so a notebook reopened without running says so instead of
going blank. Without those packages the views fall back to a static heatmap and one line saying why.
"""
from __future__ import annotations

import hashlib
import html
import importlib.util
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from IPython.display import display

__all__ = ["OfflineView", "LibrariesMissing", "find_libraries", "head_view", "model_view", "script_server"]

INSTALL_HINT = "pip install mpld3 XStatic-jQuery"
STATUS_ID = "bertviz-offline-status"
FRAME_ID = "bertviz-view"
_CDN_REQUIRE = re.compile(r"<script src=\"https://[^\"]*require[^\"]*\"></script>")
_SCRIPT_START = '<script type="text/javascript">\n'
_VIS_ID = re.compile(r"bertviz-[0-9a-f]{32}")

# Replaces require.js: bertviz only calls require.config (CDN paths, ignored) and requirejs(names, fn).
_REQUIRE_SHIM = """(function () {
  var modules = {jquery: window.jQuery, d3: window.d3};
  var requirejs = function (names, callback) { callback.apply(null, names.map(function (n) { return modules[n]; })); };
  requirejs.config = function () {};
  window.require = window.requirejs = requirejs;
})();
"""
# Runs last inside the frame: report what happened and fit the frame to what bertviz drew.
_FINISH = """<script>
(function () {
  var status = document.getElementById("%(status)s");
  if (window.__bertvizRendered) { status.remove(); }
  else { status.textContent = "bertviz did not draw: its scripts come from this notebook's running kernel, "
         + "which no longer serves them (restarted or closed?): run the cell again."; }
  var fit = function () {
    if (window.frameElement) { window.frameElement.style.height = (document.body.scrollHeight + 8) + "px"; }
  };
  fit();
  if (window.ResizeObserver) { new ResizeObserver(fit).observe(document.body); }
})();
</script>"""


class LibrariesMissing(RuntimeError):
    """d3 5 or jQuery is not installed, so bertviz cannot run offline."""


@dataclass(frozen=True)
class OfflineView:
    """A displayable bertviz view: the iframe shell (or the static fallback) and a plain-text line."""

    html: str
    text: str
    figure: Any = None

    def _ipython_display_(self) -> None:
        display({"text/html": self.html, "text/plain": self.text}, raw=True)
        if self.figure is not None:
            display(self.figure)


def find_libraries() -> dict[str, Path]:
    """Paths of the installed d3 5 (package mpld3) and jQuery (package XStatic-jQuery) scripts.

    Taught in 03_attention, § Looking at attention.
    """
    found, missing = {}, []
    for name, package, relative, pip_name in (("d3", "mpld3", "js/d3.v5.min.js", "mpld3"),
                                              ("jquery", "xstatic.pkg.jquery", "data/jquery.min.js", "XStatic-jQuery")):
        try:
            spec = importlib.util.find_spec(package)
        except ModuleNotFoundError:
            spec = None
        path = Path(spec.submodule_search_locations[0]) / relative if spec and spec.submodule_search_locations else None
        if path is None or not path.is_file():
            missing.append(f"{name} (package {pip_name})")
        else:
            found[name] = path
    if missing:
        raise LibrariesMissing(f"bertviz needs {' and '.join(missing)} to render offline: {INSTALL_HINT}")
    return found


class _ScriptServer:
    """Serves registered scripts by path from memory on 127.0.0.1, in a daemon thread of this process."""

    def __init__(self) -> None:
        self._scripts: dict[str, bytes] = {}
        self._lock = threading.Lock()
        scripts, lock = self._scripts, self._lock

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with lock:
                    body = scripts.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/javascript; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=86400")  # paths are content hashes
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Keep requests out of the notebook's stderr."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, name="bertviz-offline", daemon=True).start()

    def add(self, name: str, source: str) -> str:
        """Serve `source` under a content-hashed path and return its full URL."""
        body = source.encode("utf-8")
        path = f"/{hashlib.sha256(body).hexdigest()[:16]}/{name}"
        with self._lock:
            self._scripts[path] = body
        return self.base_url + path


_server: _ScriptServer | None = None
_server_lock = threading.Lock()


def script_server() -> _ScriptServer:
    """This kernel's script server, started on first use (127.0.0.1, a free port, a daemon thread).

    Taught in 03_attention, § Looking at attention.
    """
    global _server
    with _server_lock:
        if _server is None:
            _server = _ScriptServer()
        return _server


def _split_bertviz_html(page: str) -> tuple[str, str]:
    """Split bertviz's `html_action="return"` page into (markup, script), dropping its CDN require.js tag.

    The random element id bertviz draws is replaced by a fixed one (the frame isolates it), so the
    same attention gives the same stored output.
    """
    if not isinstance(page, str) or _SCRIPT_START not in page:
        raise ValueError("page must be the HTML that bertviz returns with html_action='return'")
    page = _VIS_ID.sub(FRAME_ID, _CDN_REQUIRE.sub("", page))
    markup, script = page.split(_SCRIPT_START, 1)
    return markup.strip(), script.rsplit("</script>", 1)[0]


def _frame_html(markup: str, script_urls: list[str], title: str) -> str:
    """The iframe shell: bertviz's markup, a status line, and <script src> tags for the served scripts."""
    tags = "\n".join(f'<script src="{html.escape(url)}"></script>' for url in script_urls)
    document = (
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        '<body style="margin:0;font-family:\'Helvetica Neue\',Helvetica,Arial,sans-serif">'
        f'<p id="{STATUS_ID}" style="color:#666;font-size:13px">Loading bertviz…</p>\n'
        f"{markup}\n{tags}\n{_FINISH % {'status': STATUS_ID}}</body></html>"
    )
    return (f'<iframe class="longctx-bertviz" title="{html.escape(title)}" srcdoc="{html.escape(document)}" '
            'style="width:100%;height:360px;border:0" loading="eager"></iframe>')


def _fallback(reason: str, attention: Any, tokens: Any, layer: int, title: str) -> OfflineView:
    from .drawing import attention_heatmap_grid

    maps = attention[layer]  # (1, H, T, T) as bertviz takes it, or (H, T, T)
    maps = maps[0] if getattr(maps, "ndim", 0) == 4 else maps
    figure = attention_heatmap_grid(maps, tokens=list(tokens) if tokens is not None and len(tokens) <= 24 else None,
                                    titles=[f"head {h}" for h in range(len(maps))], ncols=6, size=1.8)
    line = f"{title}: showing a static heatmap of layer {layer} instead, because {reason}"
    return OfflineView(f"<p>{html.escape(line)}</p>", line, figure)


def _render(bertviz_function_name: str, title: str, attention: Any, tokens: Any, html_action: str,
            layer: int | None, kwargs: dict) -> OfflineView | None:
    if html_action not in ("view", "return"):
        raise ValueError(f"html_action must be 'view' or 'return', got {html_action!r}")
    try:
        libraries = find_libraries()
        import bertviz
    except (LibrariesMissing, ImportError) as missing:
        shown = layer if layer is not None else (kwargs.get("include_layers") or [0])[0]
        view = _fallback(str(missing), attention, tokens, shown, title)
    else:
        page = getattr(bertviz, bertviz_function_name)(attention, tokens, html_action="return", **kwargs).data
        markup, script = _split_bertviz_html(page)
        server = script_server()
        urls = [server.add(path.name, path.read_text(encoding="utf-8")) for path in libraries.values()]
        urls.append(server.add(f"{bertviz_function_name}.js",
                               _REQUIRE_SHIM + script + "\nwindow.__bertvizRendered = true;\n"))
        view = OfflineView(_frame_html(markup, urls, title),
                           f"{title} (interactive; drawn by scripts this notebook's kernel serves)")
    if html_action == "return":
        return view
    display(view)
    return None


def head_view(attention: Any, tokens: Any, *, layer: int | None = None, html_action: str = "view",
              **kwargs: Any) -> OfflineView | None:
    """bertviz.head_view, offline: same arguments; displays the view, or returns it with html_action="return".

    `attention` is bertviz's: one (1, H, T, T) tensor per layer. Taught in 03_attention, § Looking at attention.
    """
    return _render("head_view", "bertviz head view", attention, tokens, html_action, layer,
                   {"layer": layer, **kwargs})


def model_view(attention: Any, tokens: Any, *, html_action: str = "view", **kwargs: Any) -> OfflineView | None:
    """bertviz.model_view, offline: same arguments; displays the view, or returns it with html_action="return".

    Taught in 03_attention, § Looking at attention.
    """
    return _render("model_view", "bertviz model view", attention, tokens, html_action, None, kwargs)
