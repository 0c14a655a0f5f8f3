package dev.offload.gateway.generation;

import java.util.List;
import java.util.Map;

/**
 * OpenAI sampling and output parameters a device asked for, passed to the backend as given
 * (vLLM and TensorRT-LLM's server accept them all); null or empty means the backend's default.
 *
 * @param topP             nucleus sampling mass
 * @param stop             up to four stop sequences (redacted like any text before a tier outside the edge zone)
 * @param seed             sampling seed
 * @param presencePenalty  -2..2
 * @param frequencyPenalty -2..2
 * @param logitBias        token id → bias, -100..100
 * @param user             the end user's id as the device names it (redacted like any text before a tier outside the edge zone)
 * @param responseFormat   OpenAI's {@code response_format} object as sent ({@code json_object}, {@code json_schema}, {@code text});
 *                         a schema is structure, not the device's data, and is sent as it is
 */
public record SamplingOptions(Double topP, List<String> stop, Integer seed, Double presencePenalty, Double frequencyPenalty,
                              Map<String, Integer> logitBias, String user, Map<String, Object> responseFormat) {
    /** Everything at the backend's default. */
    public static final SamplingOptions NONE = new SamplingOptions(null, null, null, null, null, null, null, null);

    public SamplingOptions {
        stop = stop == null ? List.of() : List.copyOf(stop);
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        responseFormat = responseFormat == null ? null : Map.copyOf(responseFormat);
    }

    /** The same options with another {@code user} and other stop sequences (the gate's redacted copy). */
    SamplingOptions withText(String otherUser, List<String> otherStop) {
        return new SamplingOptions(topP, otherStop, seed, presencePenalty, frequencyPenalty, logitBias, otherUser,
                responseFormat);
    }
}
