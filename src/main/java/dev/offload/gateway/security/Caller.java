package dev.offload.gateway.security;

import java.util.Objects;

/**
 * Who is calling, as established from the request's credentials and nothing else.
 *
 * @param tenant the tenant every document, search and statistic of this call is scoped to
 * @param role   what the key may do
 * @param device a short, non-secret fingerprint of the key (the first 12 hex digits of its
 *               SHA-256), safe to log; {@code "anonymous"} when authentication is disabled
 */
public record Caller(String tenant, Role role, String device) {
    public Caller {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(device, "device");
    }

    public boolean isAdmin() {
        return role == Role.ADMIN;
    }
}
