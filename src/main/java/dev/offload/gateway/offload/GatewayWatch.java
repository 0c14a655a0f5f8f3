package dev.offload.gateway.offload;

import dev.offload.gateway.cache.CacheConfig;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.offload.policy.GatewaySnapshot;
import dev.offload.gateway.offload.policy.GatewayView;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Wires the {@link WatchFeed} to the gateway: the state is {@link OffloadAdvisor#view}'s tiers,
 * the policy's settings and the cache's state; a Vert.x timer ticks it every
 * {@code gateway.watch.interval}. Transports ({@code api}) open watchers here.
 *
 * <p>Any thread; the tick runs on an event loop and does no blocking work.
 */
@ApplicationScoped
public class GatewayWatch {
    @Inject
    OffloadAdvisor advisor;
    @Inject
    WatchConfig config;
    /** The cache's switch, read from its configuration: the cache bean loads ONNX models, never on the timer's event loop. */
    @Inject
    CacheConfig cacheConfig;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;

    /** This run of the gateway: devices restart their version count when it changes. */
    private final long epoch = System.currentTimeMillis();
    public static final String GRPC = "grpc";
    public static final String SSE = "sse";
    private final Map<String, AtomicInteger> openByTransport = new ConcurrentHashMap<>();
    private volatile WatchFeed feed;
    private long timer = -1;

    void onStart(@Observes StartupEvent e) {
        feed();
        timer = vertx.setPeriodic(config.interval().toMillis(), id -> feed.tick());
        for (String transport : new String[]{GRPC, SSE}) {
            AtomicInteger n = new AtomicInteger();
            openByTransport.put(transport, n);
            Gauge.builder(MetricNames.OFFLOAD_WATCHERS, n, AtomicInteger::get).tag("transport", transport).register(registry);
        }
    }

    void onStop(@Observes ShutdownEvent e) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    WatchFeed feed() {
        WatchFeed f = feed;
        if (f == null) {
            synchronized (this) {
                f = feed;
                if (f == null) {
                    f = feed = new WatchFeed(this::snapshot, System::currentTimeMillis, config.heartbeat().toMillis(),
                            config.validity().toMillis(), config.maxPerDevice(), config.maxPerTenant());
                }
            }
        }
        return f;
    }

    /** The gateway's state now, as the policy reads it (version and times are the feed's to set). */
    public GatewaySnapshot snapshot() {
        GatewayView v = advisor.view(false);
        return new GatewaySnapshot(epoch, 0, System.currentTimeMillis(), config.validity().toMillis(), v.edge(), v.cloud(),
                new GatewaySnapshot.CacheState(cacheConfig.enabled()), advisor.settings());
    }

    /**
     * Opens a watch; the current snapshot reaches {@code sink} before this returns.
     *
     * @param transport {@link #GRPC} or {@link #SSE}, the gauge's tag
     *
     * @throws WatchFeed.LimitExceeded beyond the per-device or per-tenant limit
     */
    public WatchFeed.Watcher open(String tenant, String device, String transport, Consumer<WatchFeed.Publication> sink) {
        AtomicInteger n = openByTransport.computeIfAbsent(transport, t -> new AtomicInteger());
        WatchFeed.Watcher w = feed().open(tenant, device, sink, n::decrementAndGet);
        n.incrementAndGet();
        return w;
    }

    /** Open watchers, both transports. */
    public int watchers() {
        return feed().watchers();
    }

    /** The last published snapshot. */
    public GatewaySnapshot current() {
        WatchFeed.Publication p = feed().current();
        return p == null ? null : p.snapshot();
    }

    /** Samples the state now (tests; the timer does it every interval). */
    public void tick() {
        feed().tick();
    }
}
