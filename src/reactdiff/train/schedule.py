"""Learning-rate schedule: linear warm-up, then step decay at fractions of the training budget."""

from __future__ import annotations

import bisect

from reactdiff.methods.base import OptimConfig


class WarmupStepDecay:
    """``lr(step) = base_lr * min(1, (step + 1) / warmup) * gamma ** (milestones passed)``.

    Milestones are fractions of the budget, so the same setting decays at the right point whether
    the run is bounded by ``steps`` or by ``max_minutes``. The schedule is a pure function of
    (step, progress): resuming needs no hidden state beyond the step and elapsed time.
    """

    def __init__(self, config: OptimConfig):
        self.base_lr = config.lr
        self.warmup_steps = config.warmup_steps
        self.milestones = sorted(config.milestones)
        self.gamma = config.gamma

    def lr(self, step: int, progress: float) -> float:
        """Learning rate for optimizer step ``step`` (0-based) at budget fraction ``progress``."""
        warmup = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps > 0 else 1.0
        decays = bisect.bisect_right(self.milestones, progress)
        return self.base_lr * warmup * self.gamma**decays

    def apply(self, optimizer, step: int, progress: float) -> float:
        """Set the learning rate of every parameter group; return it (for logging)."""
        lr = self.lr(step, progress)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr
