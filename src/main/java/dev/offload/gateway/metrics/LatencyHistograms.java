package dev.offload.gateway.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

/**
 * Histogram buckets for the latency timers capacity planners read as percentiles (p95 time to
 * first token, inter-token latency, queue wait, search). A timer alone exports count, sum and
 * max, from which no percentile can be computed across replicas or time windows; buckets can
 * be summed and fed to {@code histogram_quantile}. Fixed boundaries rather than Micrometer's
 * generic percentile histogram: a dozen series per tier instead of ~70, placed where the
 * interactive targets are (first token under a second, a token every 20–100 ms).
 *
 * <p>Quarkus applies every {@link MeterFilter} bean to the registry before any meter exists.
 */
@Singleton
public class LatencyHistograms {
    static final Map<String, Duration[]> BUCKETS = Map.of(
            MetricNames.TTFT, ms(25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000),
            MetricNames.GEN_AI_TTFT, ms(25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000),
            MetricNames.ITL, ms(5, 10, 20, 30, 50, 75, 100, 150, 250, 500, 1000),
            MetricNames.QUEUE_TIME, ms(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
            MetricNames.SEARCH_TIME, ms(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            // Sub-millisecond: the added-latency target is 0.3 ms at p50 and 1 ms at p99.
            MetricNames.GATEWAY_OVERHEAD, us(50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10000, 50000, 250000));

    private static Duration[] us(long... micros) {
        return Arrays.stream(micros).mapToObj(u -> Duration.ofNanos(u * 1000)).toArray(Duration[]::new);
    }

    private static Duration[] ms(long... millis) {
        return Arrays.stream(millis).mapToObj(Duration::ofMillis).toArray(Duration[]::new);
    }

    @Produces
    @Singleton
    MeterFilter latencyBuckets() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                Duration[] buckets = BUCKETS.get(id.getName());
                if (buckets == null) {
                    return config;
                }
                double[] nanos = Arrays.stream(buckets).mapToDouble(Duration::toNanos).toArray();
                return DistributionStatisticConfig.builder().serviceLevelObjectives(nanos).build().merge(config);
            }
        };
    }
}
