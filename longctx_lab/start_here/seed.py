"""The seed document's §5.2 helpers, corrected: save, load and run a model on chunks of token ids.

`split_sequence` (chapter 1) and `parallel_processing` (chapter 4) are the seed's other two helpers.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from ..core.checked import checked
from ..core.checks import check_id_sequences

__all__ = ["load_model", "save_model", "test_model"]


def _check_module(model, name: str = "model") -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")


@checked
def save_model(model: torch.nn.Module, filename: str | os.PathLike) -> Path:
    """Save `model`'s weights (its state_dict) to `filename`, as the seed's save_model does.

    Taught in 00_start_here, § The seed's code, corrected.
    """
    _check_module(model)
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"filename must be a str or path, got {type(filename).__name__}")
    path = Path(filename)
    if path.is_dir():
        raise ValueError(f"filename={str(path)!r} is a directory; give a file path such as 'model.pt'")
    torch.save(model.state_dict(), path)
    return path


@checked
def load_model(model: torch.nn.Module, filename: str | os.PathLike) -> torch.nn.Module:
    """Load weights saved by `save_model` into `model` and put it in eval mode.

    The seed's version loaded into a global; here the model is an argument, and only tensors are
    unpickled (`weights_only=True`). Taught in 00_start_here, § The seed's code, corrected.
    """
    _check_module(model)
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"filename must be a str or path, got {type(filename).__name__}")
    if not Path(filename).is_file():
        raise ValueError(f"filename={str(filename)!r} does not exist; save it first with save_model")
    model.load_state_dict(torch.load(filename, map_location="cpu", weights_only=True))
    return model.eval()


@checked
def test_model(model: torch.nn.Module, sequences) -> list:
    """Run `model` without gradients on each sequence of token ids; one output per sequence, in order.

    The seed passed a Python list of chunks straight to the model, which fails: each chunk must
    become a (1, len) LongTensor on the model's device. Taught in 00_start_here, § The seed's code.
    """
    _check_module(model)
    check_id_sequences("sequences", sequences)
    if isinstance(sequences, torch.Tensor) and sequences.dim() == 1:
        sequences = [sequences]
    if not isinstance(sequences, (list, tuple, torch.Tensor)) or len(sequences) == 0:
        raise ValueError("sequences must be a non-empty list of token-id sequences (lists or 1-D tensors)")
    device = next(model.parameters()).device
    outputs = []
    with torch.no_grad():
        for i, seq in enumerate(sequences):
            ids = torch.as_tensor(seq, dtype=torch.long)
            if ids.dim() != 1 or ids.numel() == 0:
                raise ValueError(f"sequences[{i}] must be a non-empty 1-D sequence of token ids, got shape {tuple(ids.shape)}")
            outputs.append(model(input_ids=ids.unsqueeze(0).to(device)))
    return outputs


test_model.__test__ = False  # a kit function named test_*, not a pytest test
