package dev.offload.gateway.generation;

/**
 * A backend answered the request itself as invalid (HTTP 400, 413 or 422 before the first
 * token): nothing is wrong with the backend, so the replica's circuit breaker does not count it and
 * the tier's other replicas, which serve the same model, are not tried. The next tier (another
 * model, another window) is; when every tier tried refused it, the request fails with this, the
 * last tier's status and message, which the chat endpoints pass on to the client.
 */
public class BackendRefusedException extends RuntimeException {
    private final int status;
    private final String tier;

    public BackendRefusedException(String tier, int status, String backendMessage) {
        super(backendMessage);
        this.tier = tier;
        this.status = status;
    }

    /** The backend's HTTP status. */
    public int status() {
        return status;
    }

    /** The tier whose backend refused. */
    public String tier() {
        return tier;
    }

    /** Whether an HTTP status from a backend says the request, not the backend, is at fault. */
    public static boolean refusesRequest(int status) {
        return status == 400 || status == 413 || status == 422; // a 404 (no such model there) is the tier's misconfiguration
    }

    /**
     * The backend's own message: OpenAI's {@code {"error": {"message": …}}}, FastAPI's
     * {@code {"detail": …}}, or the body as it came (already cut to a bounded length).
     */
    public static String messageOf(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(body);
            if (n.path("error").path("message").isTextual()) {
                return n.path("error").path("message").asText();
            }
            if (n.path("message").isTextual()) {
                return n.path("message").asText();
            }
            if (n.has("detail")) {
                return n.get("detail").isTextual() ? n.get("detail").asText() : n.get("detail").toString();
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not JSON: the text as it is
        }
        return body.strip();
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
}
