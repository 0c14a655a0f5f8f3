package dev.offload.gateway.security;

import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the per-tenant generation limit from {@link LimitsConfig}; inject {@link TenantGenerationLimiter}. */
@Dependent
public class GenerationLimits {
    @Produces
    @Singleton
    TenantGenerationLimiter tenantGenerationLimiter(LimitsConfig limits) {
        return new TenantGenerationLimiter(limits.tenantConcurrentGenerations(), limits.generationRetryAfter());
    }
}
