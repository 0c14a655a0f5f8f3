package dev.offload.gateway.generation;

/** What a generation stream emits: tokens, then exactly one {@link Completed} (or a failure). */
public sealed interface GenerationEvent permits GenerationEvent.Token, GenerationEvent.Completed {

    /** A piece of text, in order; never repeated. */
    record Token(String text) implements GenerationEvent {
    }

    /**
     * The end of a successful stream.
     *
     * @param servedBy         tier name ({@code edge}, {@code cloud}) or {@code extractive}
     * @param replica          the replica's base URL, or null
     * @param finishReason     OpenAI's finish_reason ({@code stop}, {@code length})
     * @param queueNanos       time spent waiting for admission
     * @param ttftNanos        time from admission to the first token
     * @param attempts         backend attempts made (1 when the first one served)
     * @param fallbackReason   why an earlier tier did not serve ({@code <tier>:<reason>}), or null
     * @param redactions       personal data replaced by placeholders in what left for the serving
     *                         tier (0 inside the edge zone); the answer has the values back
     */
    record Completed(String servedBy, String replica, String finishReason, int promptTokens, int completionTokens,
                     long queueNanos, long ttftNanos, int attempts, String fallbackReason, int redactions)
            implements GenerationEvent {
    }
}
