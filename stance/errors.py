"""Exceptions raised by the core modules; the CLI turns them into messages and exit codes."""


class StanceError(Exception):
    """Base class for errors a user can act on."""


class InputError(StanceError):
    """A document could not be read (wrong encoding, binary, missing...)."""

    def __init__(self, source, problem):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class OutputError(StanceError):
    """A file the tool writes could not be written (folder missing, no permission, disk full)."""

    def __init__(self, target, problem):
        super().__init__(f"{target}: {problem}")
        self.target = target
        self.problem = problem


class LabelError(StanceError):
    """A labels or registry file has problems; ``problems`` lists them all."""

    def __init__(self, problems):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "invalid labels"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first}{more}")


class ModelError(StanceError):
    """A model file is missing, corrupt, untrusted or inconsistent with its manifest."""
