"""A cost model for training on real clusters: step time, memory per device and efficiency, data vs sequence parallel."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.checked import checked
from ..core.checks import as_int

__all__ = ["LinkSpec", "DeviceSpec", "StepWorkload", "StepPrediction", "predict_step", "LINK_PRESETS", "DEVICE_PRESETS"]


@checked(bandwidth=(0, None, True, True), latency=(0, None))
@dataclass(frozen=True)
class LinkSpec:
    """A link between devices: bandwidth per direction (bytes/s; inf = no per-byte cost) and per-message latency α (s)."""

    name: str
    bandwidth: float
    latency: float


@checked(memory_bytes=(0, None, True), flops=(0, None, True))
@dataclass(frozen=True)
class DeviceSpec:
    """A device: its memory (bytes) and the FLOP rate it sustains on this work (FLOP/s)."""

    name: str
    memory_bytes: float
    flops: float


# Vendor figures, per direction: PCI-SIG PCIe 4.0 (16 GT/s x16, about 32 GB/s); NVIDIA H100 SXM
# datasheet NVLink 4 (900 GB/s total = 450 GB/s each way); NVIDIA ConnectX-7 InfiniBand NDR (400 Gb/s).
LINK_PRESETS: dict[str, LinkSpec] = {
    "PCIe 4.0 x16": LinkSpec("PCIe 4.0 x16", 32e9, 10e-6),
    "NVLink 4 (H100)": LinkSpec("NVLink 4 (H100)", 450e9, 5e-6),
    "InfiniBand NDR": LinkSpec("InfiniBand NDR 400 Gb/s", 50e9, 5e-6),
}
# NVIDIA datasheets: H100 SXM 989 TFLOP/s dense bf16, A100 312 TFLOP/s; 40 % of peak is a typical achieved rate.
DEVICE_PRESETS: dict[str, DeviceSpec] = {
    "H100 80GB": DeviceSpec("H100 SXM 80 GB", 80e9, 0.4 * 989e12),
    "A100 80GB": DeviceSpec("A100 80 GB", 80e9, 0.4 * 312e12),
}


@checked(params=(0, None, True), layers=(1, None), d_model=(1, None), n=(1, None), batch=(1, None), kv_dim=(1, None), bytes_per_value=(1, 16))
@dataclass(frozen=True)
class StepWorkload:
    """One step of a transformer: N parameters, L layers, d_model, batch sequences of n tokens."""

    params: float
    layers: int
    d_model: int
    n: int
    batch: int = 1
    kv_dim: int | None = None  # width of K (= of V) per token and layer; d_model without GQA
    training: bool = True
    causal: bool = True
    bytes_per_value: int = 2
    sharded: bool = True  # weights, grads and optimizer state split over the P devices (FSDP / ZeRO-3)

    def flops(self, sequences: float) -> tuple[float, float]:
        """(dense, attention) FLOPs for `sequences` sequences: 2N per token, 4·L·d·n² per sequence (×3 to train)."""
        factor = 3 if self.training else 1
        attention = factor * 4 * self.layers * self.d_model * self.n**2 * sequences * (0.5 if self.causal else 1.0)
        return factor * 2 * self.params * self.n * sequences, attention

    def memory_bytes(self, tokens: float, world_size: int = 1) -> float:
        """Weights (+ grads and Adam state when training: 16 bytes/param, / P if sharded) plus activations for `tokens`."""
        state = (16 if self.training else self.bytes_per_value) * self.params / (world_size if self.sharded else 1)
        # Activations per token and layer: 34·d bytes to train (Korthikanti et al. 2022, flash attention),
        # the K/V pair when only running forward.
        per_token = 34 * self.d_model if self.training else 2 * (self.kv_dim or self.d_model) * self.bytes_per_value
        return state + per_token * self.layers * tokens


@checked
@dataclass(frozen=True)
class StepPrediction:
    """The cost model's answer for one strategy and world size."""

    strategy: str
    world_size: int
    compute_s: float
    comm_s: float
    memory_bytes: float
    fits: bool
    efficiency: float

    @property
    def step_s(self) -> float:
        return self.compute_s + self.comm_s


def _ring_pass_s(nbytes: float, p: int, link: LinkSpec) -> float:
    """One ring all-gather (or reduce-scatter) of `nbytes` over p devices: (p−1)/p of the bytes, p−1 messages."""
    return 0.0 if p == 1 else (p - 1) / p * nbytes / link.bandwidth + (p - 1) * link.latency


def _state_sync_s(work: StepWorkload, p: int, link: LinkSpec) -> float:
    """Gradient all-reduce (2 ring passes), or with sharding all-gather weights twice + reduce-scatter grads (3)."""
    if not work.training:
        return 0.0
    passes = 3 if work.sharded else 2
    return passes * _ring_pass_s(work.params * work.bytes_per_value, p, link)


@checked
def predict_step(work: StepWorkload, world_size: int, device: DeviceSpec, link: LinkSpec, strategy: str = "data") -> StepPrediction:
    """Predict step time, memory per device and efficiency of data or sequence (ring) parallelism.

    data: each device runs ⌈batch/P⌉ whole sequences, then gradients are synchronised (outputs
    all-gathered for inference). sequence: each device holds n/P tokens of every sequence; K/V blocks
    travel the ring (P − 1 steps per layer, three passes to train) overlapped with attention compute;
    the causal slowest rank does 2P/(P + 1) times the average attention work.
    Taught in 04_multi_gpu_scaling, § A cost model for real clusters.
    """
    world_size = as_int("world_size", world_size, 1)
    if strategy not in ("data", "sequence"):
        raise ValueError(f"strategy must be 'data' or 'sequence', got {strategy!r}")
    p = world_size
    ideal = sum(work.flops(work.batch)) / device.flops
    grads = _state_sync_s(work, p, link)
    if strategy == "data":
        sequences = -(-work.batch // p)
        compute = sum(work.flops(sequences)) / device.flops
        outputs = work.batch * work.n * work.d_model * work.bytes_per_value
        comm = grads if work.training else _ring_pass_s(outputs, p, link)
        memory = work.memory_bytes(sequences * work.n, p)
    else:
        dense, attention = work.flops(work.batch)
        imbalance = 2 * p / (p + 1) if work.causal else 1.0
        attention_s = attention / p * imbalance / device.flops
        compute = dense / p / device.flops + attention_s
        kv_bytes = 2 * work.batch * (work.n / p) * (work.kv_dim or work.d_model) * work.bytes_per_value
        passes = 3 if work.training else 1
        ring = passes * work.layers * (p - 1) * (kv_bytes / link.bandwidth + link.latency)
        comm = grads + max(0.0, ring - attention_s)  # only the part the attention compute cannot hide
        memory = work.memory_bytes(work.batch * work.n / p, p)
    return StepPrediction(strategy, p, compute, comm, memory, memory <= device.memory_bytes,
                          ideal / (p * (compute + comm)))
