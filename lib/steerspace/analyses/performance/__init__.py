"""The performance appendix's numbers and tables (its figures are in
:mod:`steerspace.figures.performance`):

- :mod:`.results`: the benchmarks' JSON results, the targets table and the numbers of
  the prose;
- :mod:`.floor`: each chapter's useful FLOPs and its floor at the measured matmul rate;
- :mod:`.budget`: what each stage of the book puts through the model;
- :mod:`.cost`: the paper's protocol at scale, from the cost model.
"""
