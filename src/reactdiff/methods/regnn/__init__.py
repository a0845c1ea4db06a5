"""REGNN (Xu et al., 2023) in the method registry: ``method.py`` declares it; the networks are
``perceptual`` (MulT), ``cognitive`` (25-node graph and its edges), ``motor`` (the invertible
Lipschitz graph flow) composed in ``model``; ``neighbours`` is its training data (every
appropriate reaction of each speaker) and ``stage`` its one training stage."""
