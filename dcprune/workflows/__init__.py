"""Workflows: the questions a researcher asks after one curve, answered from the closed forms.

- :mod:`~dcprune.workflows.search`: bounded 1-D minimization, batched over many quantities;
- :mod:`~dcprune.workflows.best`: the best width (or sparsity, or ridge) per rule
  (``dcprune best``);
- :mod:`~dcprune.workflows.axes`: predictions along any axis (``dcprune curve --over``);
- :mod:`~dcprune.workflows.check`: theory beside Monte Carlo for one configuration
  (``dcprune check``).
"""
