"""Diffusion maths, independent of any network: noise schedules and samplers."""

from reactdiff.diffusion.samplers import SAMPLERS, ddim_sample, ddim_step, ddpm_sample, ddpm_step
from reactdiff.diffusion.schedule import NoiseSchedule

__all__ = ["NoiseSchedule", "SAMPLERS", "ddim_sample", "ddim_step", "ddpm_sample", "ddpm_step"]
