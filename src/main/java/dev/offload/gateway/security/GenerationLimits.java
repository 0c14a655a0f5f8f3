package dev.offload.gateway.security;

import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Wires the per-tenant generation limit and the per-device rate limit from {@link LimitsConfig};
 * inject {@link TenantGenerationLimiter} and {@link DeviceRateLimiter} (one each per process, so
 * cluster mode can feed them the other replicas' usage).
 */
@Dependent
public class GenerationLimits {
    @Produces
    @Singleton
    TenantGenerationLimiter tenantGenerationLimiter(LimitsConfig limits) {
        return new TenantGenerationLimiter(limits.tenantConcurrentGenerations(), limits.generationRetryAfter());
    }

    @Produces
    @Singleton
    DeviceRateLimiter deviceRateLimiter(LimitsConfig limits) {
        return new DeviceRateLimiter(limits.deviceRequestsPerSecond(), limits.deviceBurst(), System::nanoTime);
    }
}
