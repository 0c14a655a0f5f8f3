package dev.offload.gateway.generation;

import java.util.List;
import java.util.Map;

/**
 * OpenAI sampling and output parameters a device asked for, passed to the backend as given
 * (vLLM and TensorRT-LLM's server accept them all); null or empty means the backend's default.
 *
 * @param topP              nucleus sampling mass
 * @param stop              up to four stop sequences (redacted like any text before a tier outside the edge zone)
 * @param seed              sampling seed
 * @param presencePenalty   -2..2
 * @param frequencyPenalty  -2..2
 * @param logitBias         token id → bias, -100..100
 * @param user              the end user's id as the device names it (redacted like any text before a tier outside the edge zone)
 * @param responseFormat    OpenAI's {@code response_format} object as sent ({@code json_object}, {@code json_schema}, {@code text});
 *                          a schema is structure, not the device's data, and is sent as it is
 * @param tools             OpenAI's {@code tools} as sent (function definitions: structure, sent as they are); empty for none
 * @param toolChoice        {@code tool_choice} as sent: {@code "none"|"auto"|"required"} or {@code {"type":"function",…}}; null for the default
 * @param parallelToolCalls {@code parallel_tool_calls}; null for the default
 * @param n                 choices to generate; null for one
 * @param logprobs          whether to return log probabilities of the output tokens; null for no
 * @param topLogprobs       the most likely alternatives per token, 0..20 (needs {@code logprobs})
 * @param legacy            the parameters only a legacy completion ({@code /v1/completions}) has; null for a chat completion
 */
public record SamplingOptions(Double topP, List<String> stop, Integer seed, Double presencePenalty, Double frequencyPenalty,
                              Map<String, Integer> logitBias, String user, Map<String, Object> responseFormat,
                              List<Map<String, Object>> tools, Object toolChoice, Boolean parallelToolCalls, Integer n,
                              Boolean logprobs, Integer topLogprobs, LegacyCompletion legacy) {
    /** Everything at the backend's default. */
    public static final SamplingOptions NONE = new SamplingOptions(null, null, null, null, null, null, null, null);

    /**
     * What only {@code /v1/completions} has.
     *
     * @param logprobs the number of most likely tokens to return per position (0..5), null for none
     * @param echo     whether the prompt comes back before the completion
     * @param suffix   text after the completion (redacted like any text before a tier outside the edge zone)
     * @param bestOf   candidates generated server-side, the best {@code n} returned
     */
    public record LegacyCompletion(Integer logprobs, Boolean echo, String suffix, Integer bestOf) {
    }

    public SamplingOptions {
        stop = stop == null ? List.of() : List.copyOf(stop);
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        responseFormat = responseFormat == null ? null : Map.copyOf(responseFormat);
        tools = tools == null ? List.of() : List.copyOf(tools);
    }

    /** Sampling options without tools, choices or log probabilities. */
    public SamplingOptions(Double topP, List<String> stop, Integer seed, Double presencePenalty, Double frequencyPenalty,
                           Map<String, Integer> logitBias, String user, Map<String, Object> responseFormat) {
        this(topP, stop, seed, presencePenalty, frequencyPenalty, logitBias, user, responseFormat, null, null, null,
                null, null, null, null);
    }

    /** Choices asked for: {@code n}, at least one. */
    public int choices() {
        return n == null ? 1 : Math.max(1, n);
    }

    /**
     * Whether an answer quoted from sources could stand in for the model's: not when the device
     * asked for something only a model gives (a format, tools, several choices, log probabilities).
     */
    public boolean extractiveCanServe() {
        return responseFormat == null && tools.isEmpty() && choices() == 1 && !Boolean.TRUE.equals(logprobs)
                && legacy == null;
    }

    /** The same options with another {@code user}, other stop sequences and another legacy suffix (the gate's redacted copy). */
    SamplingOptions withText(String otherUser, List<String> otherStop, String otherSuffix) {
        LegacyCompletion l = legacy == null ? null
                : new LegacyCompletion(legacy.logprobs(), legacy.echo(), otherSuffix, legacy.bestOf());
        return new SamplingOptions(topP, otherStop, seed, presencePenalty, frequencyPenalty, logitBias, otherUser,
                responseFormat, tools, toolChoice, parallelToolCalls, n, logprobs, topLogprobs, l);
    }
}
