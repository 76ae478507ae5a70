"""The local stack: template.yaml on moto, the Aidge emulator, and the function run in-process.

    with LocalStack(port=0) as stack:
        facts = stack.describe()   # endpoint_url, input_bucket, output_bucket, queues, emulator_url, ...
        ...                        # upload to facts["input_bucket"] with any S3 client
        stack.wait_until_idle(timeout=60)

``start()`` runs moto as an HTTP server on loopback, deploys the template into moto's CloudFormation
and applies what moto skips (``deploy.py``), starts the emulator, builds the function's environment
from the template (only the Aidge endpoint and the AWS endpoint point at local parts), and plays
the event source mapping with a poller (``poller.py``) that runs the real handler in-process.

The stack owns its process's AWS environment while it runs: boto3 reads ``AWS_ENDPOINT_URL`` and
credentials from ``os.environ``, so ``start()`` sets them (and the function's variables, as Lambda
would) and ``stop()`` restores what was there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from cutout.engine.port import BackgroundRemover
from cutout.profiles import ProfileSet
from cutout_tools.emulator import AidgeEmulator, FaultPlan
from cutout_tools.local_stack.defaults import DEFAULT_REGION, DEFAULT_STACK_NAME
from cutout_tools.local_stack.deploy import (
    LOCAL_ACCESS_KEY,
    LOCAL_SECRET_KEY,
    DeployedStack,
    deploy_template,
    local_client,
)
from cutout_tools.local_stack.environments import ExecutionEnvironments
from cutout_tools.local_stack.estate import prepare_estate
from cutout_tools.local_stack.lambda_runtime import LocalLambdaContext, load_handler
from cutout_tools.local_stack.poller import BatchOutcome, EventSourcePoller, MappingState
from cutout_tools.template import (
    DEFAULT_TEMPLATE_PATH,
    FUNCTION_LOGICAL_ID,
    ParameterValue,
    load_template,
    queue_settings,
    resolved_function_environment,
    sqs_event_source,
)

STOP_GRACE_SECONDS = 10.0
# The template parameters of the function's retry schedule, which ``retry_delay_seconds`` sets.
RETRY_SCHEDULE_PARAMETERS = ("RetryBackoffSeconds", "RateLimitBackoffSeconds")
DRAIN_FAULT = "801:1"  # what the emulator answers every new call with while the stack drains
Log = Callable[[str], None]


# Function variables an operator may change on a running stack (re-read before each batch).
RECONFIGURABLE_VARIABLES = ("DAILY_BUDGET", "MONTHLY_BUDGET")
# The function's version, as Lambda sets it in the environment: a new one starts new environments.
VERSION_VARIABLE = "AWS_LAMBDA_FUNCTION_VERSION"
MAPPING_OUTPUT = "WorkQueueEventSourceMappingId"  # template.yaml's output: the mapping in moto
# Template parameters the local stack sets unless told otherwise: the example events consumer (a
# rule on source "cutout" to a queue), so `cutout events tail` and `cutout local run` read the events.
LOCAL_PARAMETER_DEFAULTS = {"EventsQueue": "true"}
EVENTS_QUEUE_OUTPUT = "EventsQueueUrl"


def _check_port_free(port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise OSError(
                f"port {port} on 127.0.0.1 is taken ({error.strerror}); give another --port"
            ) from None


def _give_moto_aws_guarantees() -> None:
    """What DynamoDB and SQS guarantee and moto (in this process) does not: each patch says why."""
    from cutout_tools.local_stack.dynamodb_atomicity import give_moto_dynamodb_item_atomicity
    from cutout_tools.local_stack.sqs_atomicity import give_moto_sqs_exclusive_receives

    give_moto_dynamodb_item_atomicity()  # conditional updates, atomic per item as on DynamoDB
    give_moto_sqs_exclusive_receives()  # a received message goes to one poller, as on SQS


def log_to_stderr(line: str) -> None:
    print(f"cutout local: {line}", file=sys.stderr, flush=True)


class LocalStack:
    """template.yaml running on this machine: moto, the emulator and a local event source mapping.

    ``port=0`` picks a free port. ``faults`` are emulator fault specs (``"500:0.1"``) or a
    ``FaultPlan``. ``retry_delay_seconds`` (default: the template's retry schedule) deploys the
    template with that one delay for every retry (parameters ``RetryBackoffSeconds`` and
    ``RateLimitBackoffSeconds``): the function sets each failed message's visibility itself, as on
    AWS, and the local poller only honours it.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        latency_ms: float = 0,
        faults: Sequence[str] | FaultPlan = (),
        seed: int | None = None,
        template_path: Path | str | None = None,
        parameter_overrides: Mapping[str, ParameterValue] | None = None,
        engine: BackgroundRemover | None = None,
        key_name: str = "local",
        key_secret: str | None = None,
        log: Log | None = log_to_stderr,
        stack_name: str = DEFAULT_STACK_NAME,
        region: str = DEFAULT_REGION,
        retry_delay_seconds: int | None = None,
        existing_bucket: str | None = None,
        existing_topic: str | None = None,
    ) -> None:
        if existing_topic is not None and existing_bucket is None:
            raise ValueError("an existing topic needs the existing bucket that notifies it (existing_bucket)")
        # Your own bucket (and the SNS topic it notifies): made in moto first (estate.py), then joined.
        self._existing_bucket = existing_bucket
        self._existing_topic = existing_topic
        self._port = port
        self._template_path = Path(template_path) if template_path else DEFAULT_TEMPLATE_PATH
        self._parameter_overrides = dict(parameter_overrides or {})
        if retry_delay_seconds is not None:
            for name in RETRY_SCHEDULE_PARAMETERS:
                self._parameter_overrides.setdefault(name, str(int(retry_delay_seconds)))
        self._key_name = key_name
        self._key_secret = key_secret or secrets.token_urlsafe(24)
        self._log = log or (lambda line: None)
        self._stack_name = stack_name
        self._region = region
        self.emulator = AidgeEmulator(
            key_name=key_name,
            key_secret=self._key_secret,
            engine=engine,
            latency_ms=latency_ms,
            faults=faults if isinstance(faults, FaultPlan) else FaultPlan.parse(list(faults)),
            seed=seed,
        )
        self._moto: Any = None
        self._endpoint_url: str | None = None
        self._deployed: DeployedStack | None = None
        self._poller: EventSourcePoller | None = None
        self._saved_environ: dict[str, str | None] = {}
        self._facts: dict[str, Any] = {}
        self._function_environment: dict[str, str] = {}
        self._lock = threading.Lock()
        self._release_s3_event_facts: Callable[[], None] | None = None

    def __repr__(self) -> str:  # the key secret stays out of reprs
        return f"LocalStack(endpoint_url={self._endpoint_url!r}, stack_name={self._stack_name!r})"

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> LocalStack:
        """Bring everything up; on any failure, stop what started and re-raise."""
        if self._moto is not None:
            raise RuntimeError("the local stack is already started")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from moto.server import ThreadedMotoServer

        started = time.monotonic()
        template = load_template(self._template_path)
        declared = template.get("Parameters") or {}
        for name, value in LOCAL_PARAMETER_DEFAULTS.items():
            if name in declared:
                self._parameter_overrides.setdefault(name, value)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
        # moto says "No Moto CloudFormation support for X" (a log line and a warning) each time it
        # skips a resource type; the stack's own log says what it did instead.
        logging.getLogger("moto").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
        _check_port_free(self._port)  # moto's server thread would hang start() on a taken port
        _give_moto_aws_guarantees()
        self._supply_s3_event_facts()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self._endpoint_url = endpoint_url = f"http://{host}:{port}"
        # moto's state is per process, not per server: start from nothing (an earlier stack's leftovers).
        httpx.post(f"{endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        self._log(f"moto (S3, SQS, DynamoDB, Secrets Manager, CloudFormation, ...) at {endpoint_url}")
        self._own_aws_environment(endpoint_url)

        self.emulator.start()
        engine_name = type(self.emulator.engine).__name__
        self._log(
            f"Aidge emulator at {self.emulator.url} (engine {engine_name}, config {self.emulator.config()})"
        )

        if self._existing_bucket is not None:
            estate = prepare_estate(
                local_client("s3", endpoint_url, self._region),
                local_client("sns", endpoint_url, self._region),
                self._existing_bucket,
                self._existing_topic,
            )
            for fact in estate.facts:
                self._log(f"your own bucket: {fact}")
            self._parameter_overrides = {**self._parameter_overrides, **estate.parameters}

        deployed = deploy_template(
            template=template,
            endpoint_url=endpoint_url,
            region=self._region,
            stack_name=self._stack_name,
            parameter_overrides=self._parameter_overrides,
            aidge_secret_string=json.dumps({"app_key": self._key_name, "app_secret": self._key_secret}),
        )
        self._deployed = deployed
        self._log(
            f"stack {self._stack_name} CREATE_COMPLETE in moto's CloudFormation, from "
            f"{self._template_path.name} translated offline (parameters: {dict(deployed.context.parameters)})"
        )
        for line in deployed.applied_by_hand:
            self._log(f"applied by hand (moto skips it): {line}")
        for line in deployed.not_emulated:
            self._log(f"not emulated: {line}")

        function = deployed.template["Resources"][FUNCTION_LOGICAL_ID]
        function_name = deployed.ref(FUNCTION_LOGICAL_ID)
        invoke = self._function_invoker(function, function_name)

        source = sqs_event_source(deployed.template, deployed.context)
        queue = queue_settings(deployed.template, deployed.context, source.queue_logical_id)
        redrive = (
            f"redrive to {queue.redrive.dead_letter_queue_logical_id} after "
            f"{queue.redrive.max_receive_count} receives"
            if queue.redrive
            else "no redrive"
        )
        if not source.enabled:
            self._log(
                f"event source {source.event_name} is disabled in the template: nothing polls the queue"
            )
        else:
            self._poller = EventSourcePoller(
                local_client("sqs", endpoint_url, self._region),
                queue_url=deployed.ref(source.queue_logical_id),
                queue_arn=deployed.get_att(source.queue_logical_id, "Arn"),
                region=self._region,
                invoke=invoke,
                batch_size=source.batch_size,
                batching_window_seconds=source.maximum_batching_window_seconds,
                maximum_concurrency=source.maximum_concurrency,
                on_batch=self._log_batch,
                mapping=self._mapping_state(deployed),
            ).start()
            parameters = deployed.context.parameters
            retry = (
                f"failures retried after {parameters.get('RetryBackoffSeconds')} s "
                f"({parameters.get('RateLimitBackoffSeconds')} s for a rate limit; the function's retry "
                f"schedule, capped below the visibility timeout of {queue.visibility_timeout_seconds} s)"
            )
            self._log(
                f"event source mapping played by a local poller: {source.queue_logical_id}, batch "
                f"{source.batch_size}, window {source.maximum_batching_window_seconds} s, max concurrency "
                f"{self._poller.maximum_concurrency}; {retry}; {redrive}"
            )
        self._facts = self._describe(deployed, function_name, source.queue_logical_id)
        if self._facts.get("events_queue_url"):
            self._log(
                f"completion events: bus {deployed.context.parameters.get('EventBusName')!r}, rule on source "
                f"'cutout' -> {self._facts['events_queue_url']} (the template's EventsQueue; moto's "
                "EventBridge delivers to it): `cutout events tail` reads it"
            )
        self._log(f"ready in {time.monotonic() - started:.1f} s")

    def _supply_s3_event_facts(self) -> None:
        """S3 events with the PUT's versionId and a sequencer growing per key, as S3 sends them
        (moto's have neither), until ``stop()``: ``s3_event_facts.py``."""
        from cutout_tools.local_stack.s3_event_facts import supply_s3_event_facts

        self._release_s3_event_facts = supply_s3_event_facts()
        self._log(
            "S3 events as AWS sends them: the PUT's versionId and a sequencer growing per key, added "
            "to moto's (which has neither)"
        )

    def stop(self, grace_seconds: float | None = None) -> None:
        """Stop polling (running batches get ``grace_seconds``, default ``STOP_GRACE_SECONDS``, to
        finish), then the emulator and moto; restore the environment. Returns once all have ended."""
        grace = STOP_GRACE_SECONDS if grace_seconds is None else grace_seconds
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.request_stop()
            poller.stop(timeout=grace)
        self.emulator.stop()  # releases requests held by a `timeout` fault, so stuck batches end
        if poller is not None:
            poller.stop(timeout=None if grace_seconds is None else grace)
        moto, self._moto = self._moto, None
        if moto is not None:
            # moto's state lives in this process, beyond its server: leave none behind for others.
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"{self._endpoint_url}/moto-api/reset", timeout=10)
            moto.stop()
            server = getattr(moto, "_server", None)
            if server is not None:
                server.server_close()
        release, self._release_s3_event_facts = self._release_s3_event_facts, None
        if release is not None:
            release()
        self._restore_aws_environment()
        if self._function_environment:
            from aws_lambda_powertools.utilities import parameters

            parameters.clear_caches()  # type: ignore[no-untyped-call]  # its client named our endpoint

    def drain(self) -> None:
        """Wind down for a stop: start no more batches, and let the running ones end soon.

        The API calls under way finish (they are the paid ones) and their results are stored; from
        now on the emulator turns new calls away with a transient error (Aidge's 801, which the
        client retries only once and which bills nothing), so a batch still holding records that
        have not reached the API ends in about a second and leaves them in the queue.
        """
        if self._poller is not None:
            self._poller.request_stop()  # from now on, poller.in_flight counts every batch that will run
        self.emulator.configure(faults=FaultPlan.parse([DRAIN_FAULT]))
        self._log(f"draining: no new batches; new API calls are answered with the transient {DRAIN_FAULT}")

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- facts --------------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the local stack is not started")
        return self._endpoint_url

    @property
    def region(self) -> str:
        return self._region

    @property
    def deployed(self) -> DeployedStack:
        if self._deployed is None:
            raise RuntimeError("the local stack is not started")
        return self._deployed

    @property
    def poller(self) -> EventSourcePoller | None:
        return self._poller

    def describe(self) -> dict[str, Any]:
        """What a client needs (JSON-serialisable): endpoint, region, buckets, queues, emulator, outputs."""
        if not self._facts:
            raise RuntimeError("the local stack is not started")
        return json.loads(json.dumps(self._facts))  # type: ignore[no-any-return]

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on the local endpoint, with dummy credentials."""
        return local_client(service, self.endpoint_url, self._region)

    def function_profiles(self) -> ProfileSet | None:
        """The deliverables the function runs with (its ``PROFILES_FILE``, from its code folder, as
        Lambda resolves it), or ``None`` in the single cut-out mode (``ProfilesFile`` empty)."""
        from cutout.profiles import configured_profiles

        environment = self._function_environment
        return configured_profiles(environment.get("PROFILES_FILE", ""), environment)

    def wait_until_idle(self, timeout: float = 60.0, poll_seconds: float = 0.2) -> None:
        """Wait until the work queue is empty (visible, in flight, delayed) and no batch is running.

        A reported failure stays in flight for its retry delay (the template's schedule: 30 s,
        2 min, 8 min by default; ``retry_delay_seconds`` sets one delay for all). Raises ``TimeoutError``.
        """
        sqs = self.client("sqs")
        queue_url = self._facts["work_queue_url"]
        deadline = time.monotonic() + timeout
        quiet_checks = 0
        while True:
            busy = self._poller.in_flight if self._poller is not None else 0
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            waiting = sum(int(value) for value in attributes.values())
            quiet_checks = quiet_checks + 1 if busy == 0 and waiting == 0 else 0
            if quiet_checks >= 2:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the stack is still busy after {timeout} s ({waiting} messages, {busy} batches)"
                )
            time.sleep(poll_seconds)

    # --- parts --------------------------------------------------------------------------------

    def _describe(
        self, deployed: DeployedStack, function_name: str, work_queue_logical_id: str
    ) -> dict[str, Any]:
        sqs = self.client("sqs")

        def local_queue_url(logical_id: str) -> str:
            name = deployed.get_att(logical_id, "QueueName")
            return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])

        environment = self._function_environment
        return {
            "endpoint_url": self.endpoint_url,
            "region": self._region,
            "stack_name": self._stack_name,
            "input_bucket": deployed.outputs["InputBucketName"],  # the stack's own, or yours
            "output_bucket": deployed.ref("OutputBucket"),
            "work_queue_url": local_queue_url(work_queue_logical_id),
            "work_queue_arn": deployed.get_att(work_queue_logical_id, "Arn"),
            "dead_letter_queue_url": local_queue_url("DeadLetterQueue"),
            "dead_letter_queue_arn": deployed.get_att("DeadLetterQueue", "Arn"),
            "events_queue_url": self._events_queue_url(deployed),
            "idempotency_table": environment.get("IDEMPOTENCY_TABLE"),
            "aidge_secret_name": environment.get("AIDGE_SECRET_NAME"),
            "function_name": function_name,
            "emulator_url": self.emulator.url,
            "parameters": dict(deployed.context.parameters),
            "outputs": dict(deployed.outputs),
            "credentials": {"aws_access_key_id": LOCAL_ACCESS_KEY, "aws_secret_access_key": LOCAL_SECRET_KEY},
        }

    def _events_queue_url(self, deployed: DeployedStack) -> str | None:
        """The example consumer's queue (template output ``EventsQueueUrl``), as a local URL; or None."""
        if not deployed.outputs.get(EVENTS_QUEUE_OUTPUT):
            return None
        name = deployed.get_att("CompletionEventsQueue", "QueueName")
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def _function_invoker(
        self, function: dict[str, Any], function_name: str
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The function as the poller calls it: template environment, real handler, Lambda-like context."""
        from aws_lambda_powertools.utilities import parameters

        from cutout.engine.aidge.seams import AidgeSeams
        from cutout.settings import Settings
        from cutout.wiring import aws_pipeline

        deployed = self.deployed
        properties = function.get("Properties") or {}
        global_function = (deployed.template.get("Globals") or {}).get("Function") or {}
        emulator_origin = self.emulator.url
        local_parts = {
            "AIDGE_API_HOST": emulator_origin.split("://", 1)[1],
            "AIDGE_API_SCHEME": "http",
            # The emulator's loopback address, nothing more: its result URLs keep the documented
            # shape (http on an OSS-shaped host) and run the template's RESULT_URL_POLICY.
            "RESULT_URL_ALLOWLIST": self.emulator.address,
        }
        code_uri = deployed.evaluate(properties.get("CodeUri", global_function.get("CodeUri")))
        handler_name = str(deployed.evaluate(properties.get("Handler", global_function.get("Handler"))))
        code_dir = self._template_path.parent / str(code_uri)
        timeout = float(deployed.evaluate(properties.get("Timeout", global_function.get("Timeout", 3))))
        memory = int(deployed.evaluate(properties.get("MemorySize", global_function.get("MemorySize", 128))))
        # What Lambda itself sets: the code's folder (files shipped with the function, such as the
        # profiles, are found from it) and the memory size (the pixel budget is sized from it).
        runtime = {
            "LAMBDA_TASK_ROOT": str(code_dir.resolve()),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        }
        environment = {
            **resolved_function_environment(deployed.template, deployed.context),
            **local_parts,
            **runtime,
        }
        self._function_environment = environment
        # Lambda sets the function's variables in its process; Powertools reads them from there.
        self._set_environ(environment)
        parameters.clear_caches()  # type: ignore[no-untyped-call]  # a secret cached by an earlier stack in this process is not ours
        # The OSS-shaped result host resolves to the emulator, whose https the client trusts.
        seams = AidgeSeams(resolver=self.emulator.result_resolver, verify=self.emulator.client_ssl_context())
        pipeline = aws_pipeline(Settings.from_env(environment), aidge_seams=seams)
        handler = load_handler(code_dir, handler_name)
        self._log(
            f"function {FUNCTION_LOGICAL_ID} ({function_name}): {handler_name} from {code_uri} run "
            f"in-process, timeout {timeout:g} s, memory {memory} MB (not enforced); environment from the "
            f"template, pointed at local parts: {', '.join(sorted(local_parts))}, AWS_ENDPOINT_URL; result "
            f"host {self.emulator.result_host} resolved to {self.emulator.address}, its test CA trusted"
        )

        lambdas = local_client("lambda", self.endpoint_url, self._region)
        alias = deployed.aliases.get(FUNCTION_LOGICAL_ID)
        qualifier = {"Qualifier": alias} if alias else {}

        def configured_variables() -> dict[str, str]:
            """The configuration of the version the mapping invokes: the alias's (``AutoPublishAlias``),
            as on Lambda. A published version's configuration never changes, so an
            ``UpdateFunctionConfiguration`` (which changes ``$LATEST``) reaches the mapping only once
            a new version is published and the alias moved (a deploy). Without an alias: ``$LATEST``'s.
            The version is one of the variables, as Lambda sets it (AWS_LAMBDA_FUNCTION_VERSION)."""
            answer = lambdas.get_function_configuration(FunctionName=function_name, **qualifier)
            variables = (answer.get("Environment") or {}).get("Variables") or {}
            return {name: str(value) for name, value in variables.items()} | {
                VERSION_VARIABLE: str(answer.get("Version"))
            }

        def environment_changed(updated: dict[str, str], names: list[str]) -> None:
            self._set_environ(updated)
            self._function_environment = updated
            self._log(f"function configuration changed ({', '.join(names)}): new execution environments")

        environments = ExecutionEnvironments(
            lambda variables: aws_pipeline(Settings.from_env(variables), aidge_seams=seams),
            {**environment, VERSION_VARIABLE: configured_variables()[VERSION_VARIABLE]},
            first=pipeline,
            configured=configured_variables,
            watched=(*RECONFIGURABLE_VARIABLES, VERSION_VARIABLE),
            on_change=environment_changed,
        )
        configured_pipeline = environments.pipeline

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            pipeline = configured_pipeline()
            context = LocalLambdaContext(
                function_name=function_name,
                memory_limit_in_mb=memory,
                timeout_seconds=timeout,
                region=self._region,
                log_group_name=f"/aws/lambda/{function_name}",
            )
            response: dict[str, Any] = handler(event, context, pipeline=pipeline)
            if context.get_remaining_time_in_millis() == 0:
                self._log(
                    f"a batch ran past the function's {timeout:g} s timeout: Lambda would have stopped it"
                )
            return response

        return invoke

    def _mapping_state(self, deployed: DeployedStack) -> MappingState | None:
        """The template's mapping (in moto), as the poller reads it: enabled (the pipeline disables
        it to pause) and its MaximumConcurrency (the pipeline lowers it while the API throttles)."""
        uuid = deployed.outputs.get(MAPPING_OUTPUT)
        if not uuid:
            return None  # a template without the output: always enabled
        lambdas = local_client("lambda", self.endpoint_url, self._region)
        # moto would itself invoke the function (in Docker) on every message sent to a queue whose
        # mapping is enabled, so the deploy disabled it. Detach moto's mappings from its queues (moto
        # runs in this process): the mapping's Enabled state becomes plain data that the function
        # (to pause), `cutout resume` and this poller share, as they share Lambda's on AWS.
        from moto.sqs.models import sqs_backends

        account = str(deployed.context.account_id)
        for queue in sqs_backends[account][self._region].queues.values():
            queue.lambda_event_source_mappings.clear()
        lambdas.update_event_source_mapping(UUID=uuid, Enabled=True)
        self._remove_schedule_rules()
        self._log(
            f"event source mapping {uuid}: detached from moto's queues, enabled; the function pauses by "
            "disabling it (the poller then receives nothing) and `cutout resume` enables it"
        )

        return MappingState(lambda: lambdas.get_event_source_mapping(UUID=uuid))

    def _remove_schedule_rules(self) -> None:
        """moto never fires schedules, and its PutEvents fails on a bus holding a schedule rule (it
        matches events against the rule's missing pattern): remove them; `cutout resume` resumes."""
        events = local_client("events", self.endpoint_url, self._region)
        for rule in events.list_rules().get("Rules", []):
            if not rule.get("ScheduleExpression"):
                continue
            targets = events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", [])
            if targets:
                events.remove_targets(Rule=rule["Name"], Ids=[target["Id"] for target in targets])
            events.delete_rule(Name=rule["Name"])
            self._log(
                f"not emulated: schedule {rule['Name']} ({rule['ScheduleExpression']}); moto runs no "
                "schedules (and fails PutEvents on a bus holding one): resume it with `cutout resume`"
            )

    def _log_batch(self, outcome: BatchOutcome) -> None:
        line = f"batch: {outcome.records} records, {outcome.failures} failed, {outcome.seconds * 1000:.0f} ms"
        if outcome.error:
            line += f" (function error: {outcome.error})"
        self._log(line)

    # --- the process's AWS environment --------------------------------------------------------

    def _own_aws_environment(self, endpoint_url: str) -> None:
        self._set_environ(
            {
                "AWS_ENDPOINT_URL": endpoint_url,
                "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
                "AWS_DEFAULT_REGION": self._region,
                "AWS_REGION": self._region,
            }
        )
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            if name in os.environ:
                self._saved_environ.setdefault(name, os.environ[name])
                del os.environ[name]

    def _set_environ(self, values: Mapping[str, str]) -> None:
        with self._lock:
            for name, value in values.items():
                self._saved_environ.setdefault(name, os.environ.get(name))
                os.environ[name] = value

    def _restore_aws_environment(self) -> None:
        with self._lock:
            for name, value in self._saved_environ.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_environ.clear()
