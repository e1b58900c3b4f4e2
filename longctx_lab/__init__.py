"""longctx_lab: the helper package behind the longctx-lab notebooks (how LLMs cope with long inputs).

Chapter modules (chunking, segment_loss, attention, scaling, compression, extension) hold the techniques;
`models` and `data` the shared infrastructure; `widgets`, `plots` and `exercises` sit on top.
Everything public is importable from here, e.g. `from longctx_lab import ChunkPlan, load_smollm2`.
"""
import sys as _sys

from ._offline import install_guard_from_env as _install_guard_from_env

_install_guard_from_env()

from .models import *  # noqa: E402,F401,F403
from .seed import *  # noqa: E402,F401,F403
from .data import *  # noqa: E402,F401,F403
from .chunking import *  # noqa: E402,F401,F403
from .segment_loss import *  # noqa: E402,F401,F403
from .attention import *  # noqa: E402,F401,F403
from .scaling import *  # noqa: E402,F401,F403
from .compression import *  # noqa: E402,F401,F403
from .extension import *  # noqa: E402,F401,F403

__version__ = "0.1.0"


def _show_figures_inline() -> None:
    """Register IPython's PNG formatter for bare Figures (pyplot, which normally does it, is never imported)."""
    if "IPython" not in _sys.modules:  # a kernel imports IPython before any user code; scripts need not pay for it
        return
    from IPython import get_ipython
    from IPython.core.pylabtools import select_figure_formats

    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        select_figure_formats(shell, {"png"})


_show_figures_inline()
