package dev.offload.gateway.security;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * Turns an {@code Authorization} header into a {@link Caller} or a refusal, and applies the
 * per-device rate limit: the one decision HTTP ({@link HttpSecurityFilter}) and gRPC
 * ({@link GrpcSecurityInterceptor}) share. Non-blocking (one SHA-256 and a map lookup): any
 * thread, including the event loop.
 */
@Singleton
public class Authenticator {
    /** Every caller while authentication is disabled. */
    public static final Caller ANONYMOUS = new Caller("default", Role.ADMIN, "anonymous");
    /** Longer values are refused without hashing; real keys are ~50 characters. */
    static final int MAX_KEY_LENGTH = 512;

    /** The outcome for one call. */
    public sealed interface Decision permits Admitted, Refused {
    }

    public record Admitted(Caller caller) implements Decision {
    }

    /** @param retryAfterSeconds for {@link Refusal#RATE_LIMITED}, when to try again; 0 otherwise */
    public record Refused(Refusal refusal, String detail, long retryAfterSeconds) implements Decision {
    }

    public enum Refusal {
        /** No credentials at all: 401 / UNAUTHENTICATED. */
        MISSING_KEY,
        /** Malformed header, unknown or revoked key: 401 / UNAUTHENTICATED. */
        INVALID_KEY,
        /** The device's token bucket is empty: 429 / RESOURCE_EXHAUSTED with Retry-After. */
        RATE_LIMITED
    }

    @Inject
    ApiKeys keys;
    @Inject
    LimitsConfig limits;

    @Inject
    DeviceRateLimiter rateLimiter;
    private volatile KeyRing bucketsFor;

    /** Decides one call from its {@code Authorization} value (null if absent); counts refusals. */
    public Decision authenticate(String authorization, String transport) {
        if (!keys.enabled()) {
            return new Admitted(ANONYMOUS);
        }
        if (authorization == null || authorization.isBlank()) {
            SecurityMetrics.authFailure("missing", transport);
            return new Refused(Refusal.MISSING_KEY, "an API key is required: Authorization: Bearer <key>", 0);
        }
        Optional<String> token = bearerToken(authorization);
        if (token.isEmpty()) {
            SecurityMetrics.authFailure("invalid", transport);
            return new Refused(Refusal.INVALID_KEY, "the Authorization header must be 'Bearer <key>'", 0);
        }
        KeyRing ring = keys.ring();
        if (ring != bucketsFor) {
            // The keys changed: revoked keys' buckets go (a benign race may keep one until the next change).
            rateLimiter.retainOnly(ring.hashes());
            bucketsFor = ring;
        }
        byte[] hash = KeyRing.sha256(token.get());
        Optional<Caller> caller = ring.lookup(hash);
        if (caller.isEmpty()) {
            SecurityMetrics.authFailure("invalid", transport);
            return new Refused(Refusal.INVALID_KEY, "unknown or revoked API key", 0);
        }
        long waitNanos = rateLimiter.tryAcquire(HexFormat.of().formatHex(hash));
        if (waitNanos > 0) {
            SecurityMetrics.limitRejected("device_rate", transport);
            long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
            return new Refused(Refusal.RATE_LIMITED, "this device is over its request rate ("
                    + limits.deviceRequestsPerSecond() + "/s, burst " + limits.deviceBurst() + ")", seconds);
        }
        return new Admitted(caller.get());
    }

    /** The key of {@code Bearer <key>} (scheme in any case, RFC 6750), if well-formed. */
    static Optional<String> bearerToken(String authorization) {
        String v = authorization.strip();
        int space = v.indexOf(' ');
        if (space < 0 || !v.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
            return Optional.empty();
        }
        String token = v.substring(space + 1).strip();
        if (token.isEmpty() || token.length() > MAX_KEY_LENGTH || token.chars().anyMatch(Character::isWhitespace)) {
            return Optional.empty();
        }
        return Optional.of(token);
    }
}
