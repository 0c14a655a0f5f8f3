package dev.offload.gateway.sim;

import java.util.Map;

/**
 * One request that reached a {@link SimulatedBackend} (everything except {@code /health} and
 * {@code /metrics}, which gateways poll), as the backend received it. Immutable.
 *
 * @param id              the backend's request number, from 1; a chat completion's id is
 *                        {@code chatcmpl-sim-<id>}
 * @param method          HTTP method
 * @param path            request path without the query string
 * @param headers         headers by lower-case name; repeated headers joined with {@code ", "}
 * @param body            the body as UTF-8 text, verbatim ({@code ""} when there was none)
 * @param receivedAtNanos {@link System#nanoTime()} of this JVM when the body was complete
 */
public record ReceivedRequest(long id, String method, String path, Map<String, String> headers, String body,
                              long receivedAtNanos) {
    public ReceivedRequest {
        headers = Map.copyOf(headers);
    }
}
