"""Your data: will pruning help on my dataset, and can the prediction be trusted? (docs/data.rst)"""
