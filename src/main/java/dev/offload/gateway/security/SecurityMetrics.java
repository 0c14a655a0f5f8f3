package dev.offload.gateway.security;

import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;

/**
 * Counters for refused calls. Static so the static {@link CurrentCaller} can count too; Quarkus
 * adds its registries to Micrometer's global registry, which these go through.
 */
public final class SecurityMetrics {
    /** Transports, the {@code transport} tag. */
    public static final String HTTP = "http";
    public static final String GRPC = "grpc";

    private SecurityMetrics() {
    }

    private static MeterRegistry registry() {
        return Metrics.globalRegistry;
    }

    /** A call refused for its credentials: {@code reason=missing|invalid|forbidden}. */
    public static void authFailure(String reason, String transport) {
        registry().counter(MetricNames.AUTH_FAILURES, "reason", reason, "transport", transport).increment();
    }

    /**
     * A call refused by a limit: {@code limit=device_rate|tenant_generations|body_size|chat_messages|chat_chars|request_body_timeout}.
     */
    public static void limitRejected(String limit, String transport) {
        registry().counter(MetricNames.LIMIT_REJECTIONS, "limit", limit, "transport", transport).increment();
    }
}
