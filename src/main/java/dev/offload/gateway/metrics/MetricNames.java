package dev.offload.gateway.metrics;

/**
 * Every metric the gateway exports, in one place so documentation, dashboards and tests can
 * check against it. Dotted in code; Prometheus renders dots as underscores and adds unit
 * suffixes ({@code _seconds}, {@code _total}).
 */
public final class MetricNames {
    private MetricNames() {
    }

    /** Gauge: live documents in the shared index. */
    public static final String INDEX_DOCUMENTS = "gateway.index.documents";
    /** Gauge: live chunks (one vector each). */
    public static final String INDEX_CHUNKS = "gateway.index.chunks";
    /** Gauge: chunks deleted but not yet compacted out of the graph. */
    public static final String INDEX_PENDING_DELETES = "gateway.index.pending.deletes";
    /** Gauge: bytes of the data dir on disk. */
    public static final String INDEX_BYTES = "gateway.index.disk.bytes";
    /** Counter: documents written, tagged {@code op=upsert|delete}. */
    public static final String INGEST_DOCUMENTS = "gateway.ingest.documents";
    /** Timer: ingest request time from validation to acknowledgement. */
    public static final String INGEST_TIME = "gateway.ingest.time";
    /** Counter: texts embedded in process (chunks and queries). */
    public static final String EMBEDDING_TEXTS = "gateway.embedding.texts";
    /** Timer: one embedding call (a batch or a single query). */
    public static final String EMBEDDING_TIME = "gateway.embedding.time";
    /** Timer: search time, tagged {@code mode=hybrid|dense|sparse}. */
    public static final String SEARCH_TIME = "gateway.search.time";
    /** Timer: index commits (Lucene commit + log truncation). */
    public static final String INDEX_COMMIT_TIME = "gateway.index.commit.time";
    /** Counter: chunks removed from the vector graph by compaction. */
    public static final String INDEX_COMPACTED = "gateway.index.compacted";

    /** Gauge: requests in flight on a replica, tags {@code tier, replica}. */
    public static final String BACKEND_INFLIGHT = "gateway.backend.inflight";
    /** Gauge: the replica's adaptive in-flight limit (≤ its batch size). */
    public static final String BACKEND_LIMIT = "gateway.backend.limit";
    /** Gauge: batch occupancy, in-flight / max-concurrency (the backend's batch size). */
    public static final String BATCH_OCCUPANCY = "gateway.backend.batch.occupancy";
    /** Gauge: circuit breaker state per replica, 0 closed, 1 half-open, 2 open. */
    public static final String CIRCUIT_STATE = "gateway.backend.circuit.state";
    /** Gauge: vLLM's {@code vllm:num_requests_running}, scraped per replica. */
    public static final String VLLM_RUNNING = "gateway.backend.vllm.requests.running";
    /** Gauge: vLLM's {@code vllm:num_requests_waiting}, scraped per replica. */
    public static final String VLLM_WAITING = "gateway.backend.vllm.requests.waiting";
    /** Gauge: vLLM's {@code vllm:kv_cache_usage_perc} (0..1), scraped per replica. */
    public static final String VLLM_KV_CACHE = "gateway.backend.vllm.kv.cache.usage";
    /** Gauge: requests waiting in a tier's admission queue, tag {@code tier}. */
    public static final String QUEUE_LENGTH = "gateway.backend.queue.length";
    /** Timer: time a request waited in the admission queue, tag {@code tier}. */
    public static final String QUEUE_TIME = "gateway.backend.queue.time";
    /** Timer: time to first token from the start of the backend call, tag {@code tier}. */
    public static final String TTFT = "gateway.generation.ttft";
    /** Timer: time between consecutive tokens, tag {@code tier}. */
    public static final String ITL = "gateway.generation.inter.token";
    /** Counter: tokens, tags {@code tier, direction=in|out}; its rate is tokens/s. */
    public static final String TOKENS = "gateway.generation.tokens";
    /** Counter: answered requests, tag {@code served_by=edge|cloud|extractive}. */
    public static final String REQUESTS = "gateway.generation.requests";
    /** Counter: backend attempts (first tries and failovers), tag {@code tier}. */
    public static final String ATTEMPTS = "gateway.generation.attempts";
    /** Counter: admissions refused, tags {@code tier, reason=queue_full|queue_wait|deadline|no_backend}. */
    public static final String REJECTIONS = "gateway.generation.rejections";
    /** Counter: failed attempts, tags {@code tier, reason}. */
    public static final String FAILURES = "gateway.generation.failures";
    /** Counter: fallbacks, tags {@code to=next_tier|extractive|none, reason}. */
    public static final String FALLBACKS = "gateway.generation.fallbacks";
    /** Counter: backend calls cancelled because the client went away, tag {@code tier}. */
    public static final String CANCELLED = "gateway.generation.cancelled";
    /** Counter: requests that joined an identical in-flight request instead of calling a backend. */
    public static final String COALESCED = "gateway.generation.coalesced";
    /** Gauge: generation streams in progress. */
    public static final String GENERATION_STREAMS = "gateway.generation.streams";

    /** Gauge: mean time a completed request held its batch slot, seconds, tag {@code tier}; NaN until measured. */
    public static final String CAPACITY_SERVICE_TIME = "gateway.capacity.service.time";
    /** Gauge: requests/s the tier could complete beyond what it completes now, tag {@code tier}. */
    public static final String CAPACITY_HEADROOM_REQUESTS = "gateway.capacity.headroom.requests.per.second";
    /** Gauge: output tokens/s the tier could produce beyond what it produces now, tag {@code tier}. */
    public static final String CAPACITY_HEADROOM_TOKENS = "gateway.capacity.headroom.tokens.per.second";

    /** Counter: offload hints given, tag {@code target=LOCAL|EDGE|CLOUD|CACHE}. */
    public static final String OFFLOAD_DECISIONS = "gateway.offload.decisions";
    /** Counter: reasons behind the hints, tags {@code target, reason} (one hint counts each of its reasons). */
    public static final String OFFLOAD_REASONS = "gateway.offload.reasons";
    /** Gauge: devices watching the gateway's state, tag {@code transport=grpc|sse} (gRPC {@code Watch}, SSE {@code /v1/offload/watch}). */
    public static final String OFFLOAD_WATCHERS = "gateway.offload.watchers";
    /** Counter: queries answered on {@code /v1/query} and gRPC Query, tag {@code served_by=edge|cloud|extractive|cache|none}. */
    public static final String QUERIES = "gateway.query.requests";
    /** Timer: retrieval time of a query (embedding + hybrid search). */
    public static final String QUERY_RETRIEVAL_TIME = "gateway.query.retrieval.time";
    /** Counter: queries that ended in an error, tag {@code reason}. */
    public static final String QUERY_ERRORS = "gateway.query.errors";

    /** Counter: requests accepted on the answer paths (authenticated and valid), tags {@code endpoint=query|chat, transport=http|grpc}. */
    public static final String REQUESTS_ACCEPTED = "gateway.requests.accepted";
    /** Counter: accepted requests that ended, tags {@code endpoint, transport, outcome=completed|failed|shed|cancelled}. */
    public static final String REQUESTS_ENDED = "gateway.requests.ended";
    /** Gauge: accepted requests not ended yet (accepted − ended), tags {@code endpoint, transport}. */
    public static final String REQUESTS_OPEN = "gateway.requests.open";
    /** Counter: streams whose source ended without a terminal event (the gateway then sends an error), tags {@code endpoint, transport}. */
    public static final String REQUESTS_UNTERMINATED = "gateway.requests.unterminated";

    // Semantic cache: read from SemanticCache.stats() (function counters and gauges).
    /** Counter: cache lookups, tag {@code result=exact_hit|semantic_hit|miss|ambiguous} (ambiguous: a miss because two cached answers scored alike). */
    public static final String CACHE_LOOKUPS = "gateway.cache.lookups";
    /** Counter: answers offered to the cache, tag {@code result=stored|rejected} (rejected: a source changed since the ticket, or too large). */
    public static final String CACHE_PUTS = "gateway.cache.puts";
    /** Counter: entries dropped, tag {@code reason=capacity|expired|invalidated|replaced}. */
    public static final String CACHE_EVICTIONS = "gateway.cache.evictions";
    /** Gauge: entries held over all tenants. */
    public static final String CACHE_ENTRIES = "gateway.cache.entries";
    /** Gauge: estimated bytes the entries hold. */
    public static final String CACHE_BYTES = "gateway.cache.bytes";

    // Privacy.
    /** Counter: PII values replaced by placeholders before a remote call, tag {@code type=email|phone|card|iban|ip|national_id}. */
    public static final String PRIVACY_REDACTIONS = "gateway.privacy.redactions";
    /** Counter: prompts the sensitivity policy kept from a tier, tags {@code sensitivity, reason}. */
    public static final String PRIVACY_REFUSALS = "gateway.privacy.refusals";

    /** Gauge: API keys accepted now (from the keys file). */
    public static final String AUTH_KEYS = "gateway.auth.keys";
    /** Counter: keys-file reloads, tag {@code result=applied|failed} (an unchanged file is not counted). */
    public static final String AUTH_RELOADS = "gateway.auth.reloads";
    /** Counter: calls refused for their credentials, tags {@code reason=missing|invalid|forbidden, transport=http|grpc}. */
    public static final String AUTH_FAILURES = "gateway.auth.failures";
    /**
     * Counter: calls refused by an abuse limit, tags {@code transport=http|grpc} and
     * {@code limit=device_rate|tenant_generations|body_size|chat_messages|chat_chars|request_body_timeout}.
     */
    public static final String LIMIT_REJECTIONS = "gateway.limits.rejections";

    // OpenTelemetry GenAI semantic conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/),
    // beside the gateway's own names: dashboards built for those conventions read them as they are.
    /**
     * Timer, histogram: the gateway's own latency on answers a backend served, tags {@code endpoint=chat|completions,
     * stream=true|false}: time at the gateway minus time waiting on backends and in the admission queue (a stream: to its first byte).
     */
    public static final String GATEWAY_OVERHEAD = "gateway.overhead";
    /** Histogram: tokens per generation, tags {@code gen_ai.token.type=input|output}, {@code gen_ai.system}, {@code gen_ai.operation.name}, {@code gen_ai.request.model}, {@code tier}. */
    public static final String GEN_AI_TOKEN_USAGE = "gen_ai.client.token.usage";
    /** Timer, histogram: from the request reaching the generator (queue included) to its first token, tags as above without the token type. */
    public static final String GEN_AI_TTFT = "gen_ai.server.time_to_first_token";
}
