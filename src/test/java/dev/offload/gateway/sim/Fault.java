package dev.offload.gateway.sim;

/**
 * Failure modes a {@link SimulatedBackend} can inject into {@code POST /v1/chat/completions}
 * requests, switched at runtime with {@link SimulatedBackend#fault(Fault)} or
 * {@link SimulatedBackend#fault(Fault, double)}. The mode is drawn once per request when the
 * request arrives; requests already in flight keep the behaviour they were given. {@code GET
 * /health}, {@code /metrics} and {@code /v1/models} are never affected.
 */
public enum Fault {
    /** Normal behaviour. */
    NONE,
    /**
     * The request is generated normally but each of its tokens comes at least
     * {@link SimulatedBackend#slowDelayPerToken(java.time.Duration) slowDelayPerToken} later than
     * the previous one: the sequence sits out every decode step that starts sooner. It keeps its
     * batch slot meanwhile, as a real straggler would.
     */
    SLOW,
    /** Answer {@code 500} with an OpenAI error JSON at once; nothing is generated. */
    ERROR_500,
    /** Answer {@code 503} with an OpenAI error JSON at once; nothing is generated. */
    ERROR_503,
    /**
     * Stream {@link SimulatedBackend#resetAfterTokens(int) resetAfterTokens} tokens (0 means
     * none, only the headers) and then, at the decode step that would have produced the next
     * token, close the TCP connection in the middle of the chunked body: no final chunk, no
     * {@code [DONE]}. A non-streaming request never gets its headers: the connection is closed,
     * without a byte, at that same step. The sequence holds its batch slot until then.
     */
    RESET_MID_STREAM,
    /**
     * Send {@code 200} and the response headers (SSE headers when streaming), then never a byte
     * until the client gives up. The request takes no batch slot.
     */
    HANG_AFTER_HEADERS,
    /** Read the request and then never answer, not even headers. The request takes no batch slot. */
    HANG_BEFORE_HEADERS
}
