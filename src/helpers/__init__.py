"""photo-search: find photos by example, by text, and find near-duplicates, on your own machine.

The pipeline runs one way: scan -> images (decode) -> embedding -> index (the core store) ->
stages (places, copy groups, the cutoff) -> search / duplicates / evaluate. Import the piece you
need, e.g. `from helpers.images import load_photo`.
"""

__version__ = "0.1.0"
