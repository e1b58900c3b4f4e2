"""Chapter 4: processing segments in parallel (foundation version; the chapter extends it)."""
from __future__ import annotations

import torch

__all__ = ["parallel_processing"]


def parallel_processing(model: torch.nn.Module, sequences, batch_size: int = 16) -> list[torch.Tensor]:
    """Run `model` on each token-id sequence and return one output tensor per sequence, in order.

    Sequences are padded into batches with an attention mask (the seed passed a raw list).
    Taught in 04_multi_gpu_scaling, § The seed's parallel_processing.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    seqs = [torch.as_tensor(s, dtype=torch.long) for s in sequences]
    if not seqs:
        raise ValueError("sequences is empty; give at least one sequence of token ids")
    for i, s in enumerate(seqs):
        if s.dim() != 1 or s.numel() == 0:
            raise ValueError(f"sequences[{i}] must be a non-empty 1-D sequence of token ids, got shape {tuple(s.shape)}")
    device = next(model.parameters()).device
    outputs: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, len(seqs), batch_size):
            batch = seqs[start:start + batch_size]
            width = max(len(s) for s in batch)
            ids = torch.zeros(len(batch), width, dtype=torch.long)
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for row, s in enumerate(batch):
                ids[row, :len(s)] = s
                mask[row, :len(s)] = 1
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device))
            hidden = out.logits if hasattr(out, "logits") else out.last_hidden_state  # (B, T, ·)
            outputs.extend(hidden[row, :len(s)].cpu() for row, s in enumerate(batch))
    return outputs
