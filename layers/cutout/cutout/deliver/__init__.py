"""The deliver step: plan before paying (unchanged output, stored master, keys that can be written),
then deliver what was made (master reuse, quality gate, variants, guarded writes).

Two flows share its shape: ``SingleCutoutDelivery`` (``ProfilesFile: ""``: the API's result is the
output) and ``ProfileDelivery`` (every variant of a profile made from one master).
"""

from cutout.deliver.plan import DeliveryFlow, Made, Plan, superseded_outcome
from cutout.deliver.profiles import ProfileDelivery, ProfilePlan
from cutout.deliver.single import EXPECTED_EXTENSIONS, SingleCutoutDelivery

__all__ = [
    "EXPECTED_EXTENSIONS",
    "DeliveryFlow",
    "Made",
    "Plan",
    "ProfileDelivery",
    "ProfilePlan",
    "SingleCutoutDelivery",
    "superseded_outcome",
]
