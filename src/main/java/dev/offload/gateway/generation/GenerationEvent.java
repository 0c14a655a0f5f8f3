package dev.offload.gateway.generation;

import java.util.List;

/**
 * What a generation stream emits: tokens and tool-call fragments, then exactly one
 * {@link Completed} (or a failure).
 */
public sealed interface GenerationEvent
        permits GenerationEvent.Token, GenerationEvent.ToolCallDelta, GenerationEvent.Completed {

    /**
     * A piece of text of one choice, in order; never repeated.
     *
     * @param choice   the choice's index (0 unless several were asked for)
     * @param text     the text; may be empty when the piece carries only log probabilities
     * @param logprobs the backend's {@code logprobs} object for this piece, as JSON text; null when none
     */
    record Token(int choice, String text, String logprobs) implements GenerationEvent {
        /** Text of choice 0. */
        public Token(String text) {
            this(0, text, null);
        }
    }

    /** A piece of a tool call of one choice, its arguments with the device's values restored. */
    record ToolCallDelta(int choice, ToolCallFragment fragment) implements GenerationEvent {
    }

    /**
     * The end of a successful stream.
     *
     * @param servedBy         tier name ({@code edge}, {@code cloud}) or {@code extractive}
     * @param replica          the replica's base URL, or null
     * @param finishReason     OpenAI's finish_reason of choice 0 ({@code stop}, {@code length}, {@code tool_calls})
     * @param queueNanos       time spent waiting for admission
     * @param ttftNanos        time from admission to the first token
     * @param attempts         backend attempts made (1 when the first one served)
     * @param fallbackReason   why an earlier tier did not serve ({@code <tier>:<reason>}), or null
     * @param redactions       personal data replaced by placeholders in what left for the serving
     *                         tier (0 inside the edge zone); the answer has the values back
     * @param finishReasons    the finish_reason of every choice, by index ({@code [finishReason]} for one choice)
     * @param backendNanos     time spent waiting on backends: every attempt from the moment its request left
     *                         (after the egress gate) to its end, failed attempts included; 0 for an extractive answer
     * @param backendFirstTokenNanos the part of {@code backendNanos} before the serving attempt's first token
     *                         (failed attempts whole, the serving one until its first token)
     * @param coalesced        this caller joined an identical request's backend call rather than making its own
     *                         (the timings are that call's)
     */
    record Completed(String servedBy, String replica, String finishReason, int promptTokens, int completionTokens,
                     long queueNanos, long ttftNanos, int attempts, String fallbackReason, int redactions,
                     List<String> finishReasons, long backendNanos, long backendFirstTokenNanos, boolean coalesced)
            implements GenerationEvent {
        public Completed {
            finishReasons = finishReasons == null || finishReasons.isEmpty()
                    ? java.util.Collections.singletonList(finishReason) : java.util.Collections.unmodifiableList(
                    new java.util.ArrayList<>(finishReasons));
        }

        /** Without backend timings (an answer no backend gave). */
        public Completed(String servedBy, String replica, String finishReason, int promptTokens, int completionTokens,
                         long queueNanos, long ttftNanos, int attempts, String fallbackReason, int redactions,
                         List<String> finishReasons) {
            this(servedBy, replica, finishReason, promptTokens, completionTokens, queueNanos, ttftNanos, attempts,
                    fallbackReason, redactions, finishReasons, 0, 0, false);
        }

        /** The same end as seen by a caller that joined the call (coalescing). */
        Completed asCoalesced() {
            return new Completed(servedBy, replica, finishReason, promptTokens, completionTokens, queueNanos, ttftNanos,
                    attempts, fallbackReason, redactions, finishReasons, backendNanos, backendFirstTokenNanos, true);
        }

        /** One choice. */
        public Completed(String servedBy, String replica, String finishReason, int promptTokens, int completionTokens,
                         long queueNanos, long ttftNanos, int attempts, String fallbackReason, int redactions) {
            this(servedBy, replica, finishReason, promptTokens, completionTokens, queueNanos, ttftNanos, attempts,
                    fallbackReason, redactions, null);
        }
    }
}
