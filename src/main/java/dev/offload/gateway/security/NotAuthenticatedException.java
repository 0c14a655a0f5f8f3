package dev.offload.gateway.security;

/**
 * No authenticated caller is bound to the current request. REST maps it to 401, gRPC to
 * {@code UNAUTHENTICATED}. Normally the HTTP filter or the gRPC interceptor refuses such a call
 * before any endpoint runs; this is the fail-closed backstop for code reached some other way.
 */
public class NotAuthenticatedException extends RuntimeException {
    public NotAuthenticatedException(String message) {
        super(message);
    }
}
