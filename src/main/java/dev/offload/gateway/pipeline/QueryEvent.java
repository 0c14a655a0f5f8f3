package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.offload.policy.OffloadHint;

import java.util.List;

/** What a query streams: {@link Sources} first, {@link Token}s, then one {@link Final} (or a failure). */
public sealed interface QueryEvent permits QueryEvent.Sources, QueryEvent.Token, QueryEvent.Final {

    /** A retrieved chunk as the device sees it. */
    record SourceRef(String documentId, String chunkId, String title, double score, String snippet) {
    }

    record Sources(List<SourceRef> sources) implements QueryEvent {
    }

    record Token(String text) implements QueryEvent {
    }

    /**
     * Milliseconds; {@code queueMs} and {@code ttftMs} are null when nothing was generated.
     */
    record Timings(double retrieveMs, Double queueMs, Double ttftMs, double totalMs) {
    }

    /**
     * @param answer   the whole answer (also streamed as tokens), null when nothing was generated
     * @param servedBy {@code edge|cloud|extractive|cache|none}
     * @param cacheSimilarity for a cached answer, how close the question was to the cached one (1 = exact)
     * @param generation the generator's end of a generated (or extractive) answer, with its backend
     *                   and queue times; null for a cached answer or none
     */
    record Final(String answer, String servedBy, OffloadHint hint, Timings timings, String fallbackReason,
                 List<String> contextChunkIds, Double cacheSimilarity, GenerationEvent.Completed generation)
            implements QueryEvent {
    }
}
