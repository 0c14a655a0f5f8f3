package dev.offload.gateway.generation;

import java.util.Objects;

/**
 * A function call an assistant made earlier in the conversation, as the device sends it back in
 * the history ({@code messages[i].tool_calls[j]}).
 *
 * @param id        the call's id, which the {@code tool} message with its result names
 * @param name      the function's name
 * @param arguments the arguments as the model wrote them: a JSON text (redacted like any text
 *                  before a tier outside the edge zone)
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        arguments = arguments == null ? "" : arguments;
    }
}
