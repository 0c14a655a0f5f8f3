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
        /** Text of choice 0 (what a single-choice answer without tools streams). */
        default void onToken(String text) {
            onDelta(ChoiceDelta.text(text));
        }

        /**
         * What one chunk adds to one choice: text, tool-call fragments, log probabilities, its
         * finish reason. A chunk of several choices arrives as one delta per choice, in order.
         */
        void onDelta(ChoiceDelta delta);

        /**
         * The model the backend says answered (the {@code model} field of its reply, e.g. vLLM's
         * {@code --served-model-name}), once, before {@code onComplete}; not called when the reply names none.
         */
        default void onModel(String model) {
        }

        /** @param finishReason the finish reason of choice 0 (each choice's came with its last delta) */
        void onComplete(String finishReason, Integer promptTokens, Integer completionTokens);

        void onError(Throwable failure);
    }

    @FunctionalInterface
    interface Cancellation {
        void cancel();
    }
}
