package dev.offload.gateway.generation;

/**
 * A piece of a tool call the backend is making, as OpenAI streams it ({@code delta.tool_calls[k]}):
 * the first fragment of call {@code index} carries its id and function name, the following ones
 * pieces of the arguments' JSON text.
 *
 * @param index     the call's position among the choice's tool calls (0, 1, … for parallel calls)
 * @param id        the call's id, on its first fragment; null after
 * @param name      the function's name, on its first fragment; null after
 * @param arguments the next piece of the arguments' JSON text; may be empty
 */
public record ToolCallFragment(int index, String id, String name, String arguments) {
    public ToolCallFragment {
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0");
        }
        arguments = arguments == null ? "" : arguments;
    }
}
