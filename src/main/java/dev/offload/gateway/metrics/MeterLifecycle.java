package dev.offload.gateway.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.List;

/**
 * Removes every {@code gateway.*} meter that reads a state object (gauges, function counters
 * and timers) when the application stops. They hold their state object weakly and a registry keeps the first meter registered under an id: when the
 * application starts again in the same JVM (tests restart it between profiles) the new gauges
 * would be ignored in favour of the old ones, whose objects are gone, and disappear from the
 * scrape once collected. Production never restarts in place, so this only keeps restarts honest.
 */
@ApplicationScoped
public class MeterLifecycle {
    @Inject
    MeterRegistry registry;

    void onStop(@Observes ShutdownEvent e) {
        List<Meter> ours = registry.getMeters().stream()
                .filter(m -> m.getId().getName().startsWith("gateway."))
                .filter(m -> m instanceof Gauge || m instanceof FunctionCounter || m instanceof TimeGauge
                        || m instanceof FunctionTimer)
                .toList();
        ours.forEach(registry::remove);
    }
}
