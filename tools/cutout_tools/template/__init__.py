"""``template.yaml`` as data: load it, translate it offline, evaluate it, read the topology from it.

The local stack derives everything from the template through this package, so the template stays
the single description of the topology.
"""

from cutout_tools.template.errors import TemplateError, UnresolvedReferenceError
from cutout_tools.template.intrinsics import (
    LOCAL_ACCOUNT_ID,
    NO_VALUE,
    ResourceResolver,
    StackContext,
    referenced_logical_id,
    resolve,
)
from cutout_tools.template.loader import DEFAULT_TEMPLATE_PATH, Template, load_template, parse_template
from cutout_tools.template.parameters import ParameterValue, resolve_parameters
from cutout_tools.template.topology import (
    DEAD_LETTER_QUEUE_LOGICAL_ID,
    FUNCTION_LOGICAL_ID,
    INPUT_BUCKET_LOGICAL_ID,
    OUTPUT_BUCKET_LOGICAL_ID,
    WORK_QUEUE_LOGICAL_ID,
    QueueNotification,
    QueuePolicy,
    QueueSettings,
    Redrive,
    SqsEventSource,
    bucket_notification_configuration,
    bucket_queue_notifications,
    function_environment_variables,
    queue_policies,
    queue_settings,
    resolved_function_environment,
    resource,
    sqs_event_source,
)
from cutout_tools.template.translate import (
    LOCAL_ARTIFACT_BUCKET,
    OfflineManagedPolicyLoader,
    for_moto,
    translate_template,
    with_placeholder_code_uris,
)

__all__ = [
    "DEAD_LETTER_QUEUE_LOGICAL_ID",
    "DEFAULT_TEMPLATE_PATH",
    "FUNCTION_LOGICAL_ID",
    "INPUT_BUCKET_LOGICAL_ID",
    "LOCAL_ACCOUNT_ID",
    "LOCAL_ARTIFACT_BUCKET",
    "NO_VALUE",
    "OUTPUT_BUCKET_LOGICAL_ID",
    "WORK_QUEUE_LOGICAL_ID",
    "OfflineManagedPolicyLoader",
    "ParameterValue",
    "QueueNotification",
    "QueuePolicy",
    "QueueSettings",
    "Redrive",
    "ResourceResolver",
    "SqsEventSource",
    "StackContext",
    "Template",
    "TemplateError",
    "UnresolvedReferenceError",
    "bucket_notification_configuration",
    "bucket_queue_notifications",
    "for_moto",
    "function_environment_variables",
    "load_template",
    "parse_template",
    "queue_policies",
    "queue_settings",
    "referenced_logical_id",
    "resolve",
    "resolve_parameters",
    "resolved_function_environment",
    "resource",
    "sqs_event_source",
    "translate_template",
    "with_placeholder_code_uris",
]
