"""Adapters that bring real datasets into amodal's layout (:mod:`amodal.data`).

Empty for now: the readers of OpenNeuro ds007272 and of the Natural Scenes Dataset land here. An adapter
writes (or links) the stimuli table, the trials tables, per-trial surface betas and an atlas in the layout
that :mod:`amodal.data._layout` describes; every later stage then runs unchanged.
"""

__all__: list[str] = []
