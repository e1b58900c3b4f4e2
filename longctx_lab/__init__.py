"""longctx_lab: the helper package behind the longctx-lab notebooks (how LLMs cope with long inputs).

The package mirrors the course: the code behind notebook `NN_name.ipynb` lives in `longctx_lab/name/`.

    core/               shared by every chapter, nothing chapter-specific: argument checks, model
                        registry and loading, bundled data, transformers shims, timing, offline guard,
                        panel conventions, figure helpers, the exercise kit, bertviz offline,
                        the learner's language (set_language, gettext, CJK figure fonts)
    start_here/         00_start_here: the seed's §5 helpers, corrected
    chunking/           01_chunking: the chunk plan, chunking ids and real text
    segment_loss/       02_segment_loss: L(θ) = Σᵢ Lᵢ four ways, its costs and gradients
    attention/          03_attention: attention maps, head statistics, window masks, adaptive span
    multi_gpu_scaling/  04_multi_gpu_scaling: torch.distributed workers, scaling, collectives, ring attention
    compression/        05_compression: pruning, int8, distillation, the yardstick, the KV cache
    context_extension/  06_context_extension: RoPE and its scaling, perplexity past the trained length, needles
    your_own_model/     07_your_own_model: any model and text, the long-context report card

Each chapter folder holds its technique modules plus its own `widgets.py`, `plots.py` and
`exercises.py`; its `__init__.py` says what the chapter teaches and lists the files. Imports point
one way: chapters use `core` (and another chapter's public names where the lesson builds on it);
`core` never imports a chapter. Every public technique name is importable from here, e.g.
`from longctx_lab import ChunkPlan, load_smollm2`; panels, figures and exercises are imported from
their chapter (`from longctx_lab.chunking.widgets import chunk_panel`), so `import longctx_lab` loads
no widget or plotting library.
"""
import sys as _sys

from .core.offline import install_guard_from_env as _install_guard_from_env

_install_guard_from_env()

from .core.models import *  # noqa: E402,F401,F403
from .core.pretrained import *  # noqa: E402,F401,F403
from .core.data import *  # noqa: E402,F401,F403
from .core.own_text import *  # noqa: E402,F401,F403
from .core.tokenizers import *  # noqa: E402,F401,F403
from .start_here.seed import *  # noqa: E402,F401,F403
from .chunking.plan import *  # noqa: E402,F401,F403
from .chunking.text import *  # noqa: E402,F401,F403
from .chunking.languages import *  # noqa: E402,F401,F403
from .segment_loss.loss import *  # noqa: E402,F401,F403  (after the folder: the function segment_loss wins)
from .segment_loss.costs import *  # noqa: E402,F401,F403
from .attention.maps import *  # noqa: E402,F401,F403
from .attention.adaptive_span import *  # noqa: E402,F401,F403
from .multi_gpu_scaling.workers import *  # noqa: E402,F401,F403
from .multi_gpu_scaling.scaling import *  # noqa: E402,F401,F403
from .multi_gpu_scaling.collectives import *  # noqa: E402,F401,F403
from .multi_gpu_scaling.ring import *  # noqa: E402,F401,F403
from .multi_gpu_scaling.cost_model import *  # noqa: E402,F401,F403
from .compression.variants import *  # noqa: E402,F401,F403
from .compression.yardstick import *  # noqa: E402,F401,F403
from .compression.kv_cache import *  # noqa: E402,F401,F403
from .context_extension.rope import *  # noqa: E402,F401,F403
from .context_extension.needle import *  # noqa: E402,F401,F403
from .context_extension.chinese import *  # noqa: E402,F401,F403
from .your_own_model.config_card import *  # noqa: E402,F401,F403
from .your_own_model.measurements import *  # noqa: E402,F401,F403
from .your_own_model.verdict import *  # noqa: E402,F401,F403
from .your_own_model.report import *  # noqa: E402,F401,F403
from .your_own_model.stored import *  # noqa: E402,F401,F403
from .core.i18n import set_language  # noqa: E402,F401

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
