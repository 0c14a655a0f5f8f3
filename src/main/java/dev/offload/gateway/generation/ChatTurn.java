package dev.offload.gateway.generation;

import java.util.List;

/**
 * One message of a conversation: role {@code system|user|assistant|tool} and its text.
 *
 * @param role       {@code system}, {@code user}, {@code assistant}, {@code tool}, or {@code prompt}
 *                   (the text of a legacy completion, sent as it is)
 * @param content    the text; empty for an assistant message that only calls tools
 * @param toolCallId for a {@code tool} message: the id of the call whose result it carries; else null
 * @param toolCalls  for an {@code assistant} message: the tool calls it made; else empty
 */
public record ChatTurn(String role, String content, String toolCallId, List<ToolCall> toolCalls) {
    public ChatTurn {
        if (role == null || content == null) {
            throw new IllegalArgumentException("role and content are required");
        }
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatTurn(String role, String content) {
        this(role, content, null, List.of());
    }

    /** The same turn with other text (the gate's redacted copy). */
    ChatTurn with(String otherContent, List<ToolCall> otherToolCalls) {
        return new ChatTurn(role, otherContent, toolCallId, otherToolCalls);
    }
}
