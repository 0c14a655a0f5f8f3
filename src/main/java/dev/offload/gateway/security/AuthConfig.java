package dev.offload.gateway.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Device identity: API keys and how they are loaded. */
@ConfigMapping(prefix = "gateway.auth")
public interface AuthConfig {
    /**
     * Require an API key ({@code Authorization: Bearer <key>}) on every REST and gRPC call.
     * {@code false} makes every caller the tenant {@code default} with the admin role (a warning
     * is logged at start); never on a gateway others can reach.
     */
    @WithDefault("true")
    boolean enabled();

    /**
     * The keys file: lines {@code <sha256-hex-of-key> <tenant> <device|admin>}. Unset: {@code
     * <data-dir>/keys}, created with one generated admin key on the first start. Set but
     * missing: the gateway refuses to start.
     */
    Optional<String> keysFile();

    /** How often the keys file is re-read; a revoked key stops working within this interval. */
    @WithDefault("10s")
    Duration reloadInterval();
}
