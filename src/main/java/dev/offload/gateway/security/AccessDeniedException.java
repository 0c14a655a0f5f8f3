package dev.offload.gateway.security;

/** The caller is authenticated but its role may not do this. REST: 403; gRPC: {@code PERMISSION_DENIED}. */
public class AccessDeniedException extends RuntimeException {
    public AccessDeniedException(String message) {
        super(message);
    }
}
