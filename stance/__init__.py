"""stance: tag actors in Syrian-conflict news with their position toward Damascus."""

__version__ = "0.1.0"

#: The three positions an actor mention can take (see ANNOTATION.md).
LABELS = ("pro-damascus", "opposition", "mediator")
