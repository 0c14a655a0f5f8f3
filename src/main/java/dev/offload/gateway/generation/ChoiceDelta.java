package dev.offload.gateway.generation;

import java.util.List;

/**
 * What one streamed chunk of a backend's answer adds to one of its choices.
 *
 * @param choice       the choice's index (0 unless the request asked for {@code n > 1}, or, for a
 *                     legacy completion, sent several prompts)
 * @param content      the next piece of text; may be empty
 * @param toolCalls    pieces of tool calls; empty when none
 * @param logprobs     the chunk's {@code logprobs} object as the backend sent it (chat:
 *                     {@code {"content":[…]}}, legacy completions: {@code {"tokens":[…],…}}), as
 *                     JSON text; null when none
 * @param finishReason set on the choice's last chunk ({@code stop}, {@code length}, {@code tool_calls})
 */
public record ChoiceDelta(int choice, String content, List<ToolCallFragment> toolCalls, String logprobs,
                          String finishReason) {
    public ChoiceDelta {
        content = content == null ? "" : content;
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /** Text for choice 0. */
    public static ChoiceDelta text(String text) {
        return new ChoiceDelta(0, text, List.of(), null, null);
    }

    /** Whether the chunk carries output (text, a tool call, log probabilities), not only an end. */
    public boolean carriesOutput() {
        return !content.isEmpty() || !toolCalls.isEmpty() || logprobs != null;
    }
}
