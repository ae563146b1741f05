"""The book's figures: one vocabulary (:mod:`.style`) and one module per topic.

Every figure of the book is drawn by a named function here, so a chapter's code shows
the analysis and the figures stay consistent and tested
(``tests/figures/test_figures_embedding_space.py``). Each function returns the :class:`matplotlib.figure.Figure`
and leaves saving to :func:`.style.save_figure`.
"""
