"""Training of both ReactDiff stages: configs, loop, checkpoints, EMA, LR schedule, DDP.

Entry points: ``reactdiff train autoencoder|diffusion`` (:mod:`reactdiff.commands.train`) and
:func:`reactdiff.train.loop.train`.
"""
