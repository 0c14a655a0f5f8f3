package dev.offload.gateway.generation;

/**
 * Streams one chat completion from one backend replica. Implementations are thread-safe;
 * listener callbacks arrive on the client's I/O threads, in order, and end with exactly one of
 * {@code onComplete} or {@code onError} unless the call is cancelled first.
 */
public interface BackendClient {

    /** Starts the call; the returned handle cancels it (closes the connection) at any time. */
    Cancellation stream(GenerationRequest request, String model, Listener listener);

    interface Listener {
        void onToken(String text);

        void onComplete(String finishReason, Integer promptTokens, Integer completionTokens);

        void onError(Throwable failure);
    }

    @FunctionalInterface
    interface Cancellation {
        void cancel();
    }
}
