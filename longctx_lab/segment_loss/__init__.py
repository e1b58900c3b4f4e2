"""02_segment_loss: per-token NLL and L(θ) = Σᵢ Lᵢ in full / disjoint / sliding / recurrent modes, costs, gradients.

    loss.py       token_nll, segment_loss in the four modes, loss by position, the mean-of-means trap
    costs.py      gradients accumulated segment by segment, forward cost, where phrases fall
    widgets.py    the live panel: mode, k and stride over the long document
    plots.py      per-segment bars and the loss-by-position curve
    exercises.py  the chapter's exercises
"""
