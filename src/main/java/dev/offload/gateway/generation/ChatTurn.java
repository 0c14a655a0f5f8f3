package dev.offload.gateway.generation;

/** One message of a conversation: role {@code system|user|assistant} and its text. */
public record ChatTurn(String role, String content) {
    public ChatTurn {
        if (role == null || content == null) {
            throw new IllegalArgumentException("role and content are required");
        }
    }
}
