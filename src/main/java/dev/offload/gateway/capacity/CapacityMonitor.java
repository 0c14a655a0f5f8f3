package dev.offload.gateway.capacity;

import dev.offload.gateway.generation.Generator;
import dev.offload.gateway.generation.Replica;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Live capacity of the generation tiers. Service rates come from what the generator already
 * counts when it completes a request: the {@code gateway.generation.requests} and
 * {@code gateway.generation.tokens} counters, sampled every {@code sample-interval} on one
 * thread of its own, and the tier's mean service time, which the tier keeps for its admission
 * estimate. Nothing is added to the request path.
 *
 * <p>{@link #summary()} may be called from any thread, including an event loop: it only reads.
 */
@ApplicationScoped
public class CapacityMonitor {
    @Inject
    Generator generator;
    @Inject
    dev.offload.gateway.generation.TierRegistry tierRegistry;
    @Inject
    MeterRegistry registry;
    @Inject
    CapacityConfig config;

    private final Map<String, ServiceRates> rates = new ConcurrentHashMap<>();
    private final List<Meter> meters = new ArrayList<>();
    private ScheduledExecutorService sampler;

    void onStart(@Observes StartupEvent e) {
        for (Tier t : generator.tiers()) {
            rates.put(t.name(), new ServiceRates(config.rateHalfLife().toNanos()));
            gauge(MetricNames.CAPACITY_SERVICE_TIME, t, "seconds", c -> nan(c.measured().serviceTimeSeconds()));
            gauge(MetricNames.CAPACITY_HEADROOM_REQUESTS, t, null, c -> nan(c.headroom().requestsPerSecond()));
            gauge(MetricNames.CAPACITY_HEADROOM_TOKENS, t, null, c -> nan(c.headroom().tokensPerSecond()));
        }
        sampleNow();
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "capacity-sampler");
            th.setDaemon(true);
            return th;
        });
        long every = Math.max(10, config.sampleInterval().toMillis());
        sampler.scheduleWithFixedDelay(this::sampleNow, every, every, TimeUnit.MILLISECONDS);
    }

    private void gauge(String name, Tier t, String unit, ToDoubleFunction<TierCapacity> f) {
        Gauge.Builder<CapacityMonitor> b = Gauge.builder(name, this, m -> {
            TierCapacity c = m.tier(t.name());
            return c == null ? Double.NaN : f.applyAsDouble(c);
        }).tag("tier", t.name());
        if (unit != null) {
            b.baseUnit(unit);
        }
        meters.add(b.register(registry));
    }

    private static double nan(Double v) {
        return v == null ? Double.NaN : v;
    }

    /** Samples every tier's counters now (the sampler thread does it every interval). */
    public void sampleNow() {
        long now = System.nanoTime();
        for (Tier t : generator.tiers()) {
            ServiceRates r = rates.get(t.name());
            if (r == null) {
                continue;
            }
            synchronized (r) {
                r.observe(now, count(registry.find(MetricNames.REQUESTS).tag("served_by", t.name()).counter()),
                        count(registry.find(MetricNames.TOKENS).tag("tier", t.name()).tag("direction", "in").counter()),
                        count(registry.find(MetricNames.TOKENS).tag("tier", t.name()).tag("direction", "out").counter()));
            }
        }
    }

    private static double count(Counter c) {
        return c == null ? 0 : c.count();
    }

    /** Every tier now. */
    public CapacitySummary summary() {
        List<TierCapacity> out = new ArrayList<>();
        for (Tier t : generator.tiers()) {
            out.add(capacityOf(t));
        }
        return new CapacitySummary(Instant.now(), out);
    }

    /** One tier now, or null if it is not configured. */
    public TierCapacity tier(String name) {
        Tier t = generator.tier(name);
        return t == null ? null : capacityOf(t);
    }

    private TierCapacity capacityOf(Tier t) {
        List<TierCapacity.ReplicaState> replicas = new ArrayList<>();
        for (Replica r : t.replicas()) {
            Replica.VllmGauges v = r.vllm();
            int limit = r.limit();
            replicas.add(new TierCapacity.ReplicaState(r.url(), generator.circuitState(r).name().toLowerCase(Locale.ROOT),
                    r.inFlight(), limit, r.maxConcurrency(), limit == 0 ? 0 : (double) r.inFlight() / limit,
                    TierCapacity.finite(v.running()), TierCapacity.finite(v.waiting()), TierCapacity.finite(v.kvCacheUsage())));
        }
        ServiceRates r = rates.get(t.name());
        ServiceRates.Snapshot s = r == null ? ServiceRates.Snapshot.EMPTY : r.snapshot();
        var priced = tierRegistry.settings(t.name()).config();
        return TierCapacity.of(t.name(), t.zone(), replicas, t.queueLength(), t.serviceTimeEwmaNanos(), s,
                priced.pricePerMillionInputTokens().orElse(null), priced.pricePerMillionOutputTokens().orElse(null));
    }

    /**
     * Fills a plan request's hardware from measurement when it names {@code measuredTier}:
     * tokens/s per replica = measured output tokens/s per slot × the batch size. Measured service
     * times include prefill, so prefill is not added again unless the request gives a rate.
     */
    public PlanRequest withMeasurements(PlanRequest request) {
        if (request == null || request.hardware() == null || request.hardware().measuredTier() == null) {
            return request;
        }
        PlanRequest.Hardware h = request.hardware();
        TierCapacity tier = tier(h.measuredTier());
        if (tier == null) {
            throw new InvalidPlanException(List.of(new InvalidPlanException.Violation("hardware.measuredTier",
                    "no tier '" + h.measuredTier() + "' is configured; configured: "
                            + generator.tiers().stream().map(Tier::name).toList())));
        }
        Integer batch = h.maxConcurrency() != null ? h.maxConcurrency()
                : tier.replicas() == 0 ? null : tier.maxConcurrency() / tier.replicas();
        Double tokensPerSecond = h.tokensPerSecond();
        if (tokensPerSecond == null) {
            Double perSlot = tier.measured().tokensPerSecondPerSlot();
            if (perSlot == null || batch == null) {
                throw new InvalidPlanException(List.of(new InvalidPlanException.Violation("hardware.measuredTier",
                        "nothing measured on tier '" + tier.tier() + "' yet: serve some traffic first, or give hardware.tokensPerSecond")));
            }
            tokensPerSecond = perSlot * batch;
        }
        PlanRequest.Hardware filled = new PlanRequest.Hardware(tokensPerSecond, h.prefillTokensPerSecond(), batch,
                h.pricePerHour(), h.measuredTier());
        return new PlanRequest(request.fleetSize(), request.queriesPerDevicePerHour(), request.promptTokens(),
                request.outputTokens(), filled, request.externalPricePerMillionTokens(), request.egressPricePerGb(),
                request.egressBytesPerToken(), request.deviceCostPerMillionTokens(), request.targetOccupancy());
    }

    void onStop(@Observes ShutdownEvent e) {
        if (sampler != null) {
            sampler.shutdownNow();
        }
        // The registry can outlive this bean (Micrometer's global registry, one JVM running
        // several application starts in tests): a gauge left behind would read a dead bean, and
        // the next start's registration would get the stale gauge back instead of its own.
        meters.forEach(registry::remove);
    }
}
