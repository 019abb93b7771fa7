"""Safety: the filters every plan passes through, in one list (``FILTERS``), applied in one
place (``screen``).

Two words, two ideas:

* **withhold**: the change leaves the plan, and forcing never brings it back; everything
  that depends on it leaves with it. Its ``Refusal`` has ``withheld=True``. (Foreign
  ownership, ``policy.protect``, ambiguous paths, what the API cannot do, metadata writes
  over metadata that could not be read, the last admin, an unsafe live listing, unlinks
  decided by a selector that matches nothing.)
* **refuse**: the change stays in the plan, and the plan applies only with ``--force``. Its
  ``Refusal`` has ``withheld=False``. (Replacements, the delete, change and unlink
  thresholds, top-level creates a limited caller cannot see.)

Each filter is a ``Filter``: a name, its verb, and ``check(facts, changes) -> [Verdict]``
over the changes still in the plan; ``Facts`` holds what the stages decided that a filter
judges by. A stage may also explain what it did not plan at all with a withheld refusal of
its own (``not-prunable``, ``ambiguous-item``, ``manifest-unmatched``); those come first.
"""

from reconciler.plan.safety.filters import FILTERS, screen
from reconciler.plan.safety.verdicts import EmptySelectors, Facts, Filter, Verdict

__all__ = ["FILTERS", "EmptySelectors", "Facts", "Filter", "Verdict", "screen"]
