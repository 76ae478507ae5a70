"""The deliver step: plan before paying (unchanged output, stored master, keys that can be written),
then deliver what was made (master reuse, quality gate, variants, guarded writes).

One flow, ``ProfileDelivery``: every variant of a profile made from one master. The single cut-out
mode (``ProfilesFile: ""``) is the built-in profile whose one variant is the API's result as
returned (``cutout.profiles.SingleProfile``).
"""

from cutout.deliver.plan import DeliveryFlow, Made, Plan, superseded_outcome
from cutout.deliver.profiles import ProfileDelivery, ProfilePlan

__all__ = [
    "DeliveryFlow",
    "Made",
    "Plan",
    "ProfileDelivery",
    "ProfilePlan",
    "superseded_outcome",
]
