package dev.offload.gateway.generation;

import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.privacy.Zone;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.faulttolerance.api.CircuitBreakerMaintenance;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import io.smallrye.faulttolerance.api.Guard;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.util.TypeLiteral;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The configured tiers ({@code gateway.tiers.<name>.*}), built once: each tier's replicas, their
 * pooled backend clients and circuit breakers, the tier's meters, in fallback order
 * ({@code order}, then name). The one place that reads {@link TiersConfig}: everything else
 * asks it for tiers, their zone and their settings, and never spells a tier's name.
 *
 * <p>Thread-safe once built; {@link #tiers()} and {@link #tier} may be called from any thread.
 */
@ApplicationScoped
public class TierRegistry {
    private static final Logger LOG = Logger.getLogger(TierRegistry.class);
    private static final TypeLiteral<CompletionStage<Boolean>> FIRST_TOKEN = new TypeLiteral<>() {
    };

    @Inject
    TiersConfig config;
    @Inject
    MeterRegistry registry;
    @Inject
    Vertx vertx;
    /** Its propagators write each backend call's trace context (no-op while tracing is off); null in unit tests. */
    @Inject
    io.opentelemetry.api.OpenTelemetry openTelemetry;

    private final Map<String, Tier> tiers = new LinkedHashMap<>();
    private final Map<String, Settings> settings = new LinkedHashMap<>();
    private final Map<Replica, Guard> guards = new LinkedHashMap<>();
    private final List<LangChainBackendClient> clients = new ArrayList<>();
    /** Looked up once: {@code CircuitBreakerMaintenance.get()} is a CDI lookup, and admission asks per request. */
    private CircuitBreakerMaintenance circuits;
    /** The tiers in fallback order, fixed once built; read on every request without a lock. */
    private volatile List<Tier> ordered = List.of();
    /** Written last by {@link #build}: whoever reads it true sees the maps filled. */
    private volatile boolean built;

    /**
     * What the request path needs of a tier, read from configuration once.
     *
     * @param model            the model name the backend serves
     * @param zone             where the tier runs
     * @param maxContextTokens the model's context window
     * @param ttftNanos        first-token limit of an attempt
     * @param idleNanos        longest silence of a stream
     * @param config           everything else the tier was configured with
     */
    public record Settings(String model, Zone zone, int maxContextTokens, long ttftNanos, long idleNanos,
                           TierMeters meters, TiersConfig.Tier config) {
    }

    /** For CDI. */
    public TierRegistry() {
    }

    /**
     * Tiers built elsewhere, in this order, without circuit breakers or backend clients of the
     * registry's own: what a unit test of the generator runs against (fake clock, fake backends).
     */
    TierRegistry(List<Tier> ordered, Map<String, Settings> settings) {
        for (Tier t : ordered) {
            tiers.put(t.name(), t);
        }
        this.settings.putAll(settings);
        this.ordered = List.copyOf(ordered);
        built = true;
    }

    /** Builds the tiers (idempotent; the first caller builds). */
    synchronized void build() {
        if (built) {
            return;
        }
        circuits = CircuitBreakerMaintenance.get();
        List<Map.Entry<String, TiersConfig.Tier>> ordered = new ArrayList<>(config.tiers().entrySet());
        ordered.sort(Comparator.<Map.Entry<String, TiersConfig.Tier>>comparingInt(e -> e.getValue().order())
                .thenComparing(Map.Entry::getKey));
        for (Map.Entry<String, TiersConfig.Tier> e : ordered) {
            add(e.getKey(), e.getValue());
        }
        if (tiers.isEmpty()) {
            LOG.warn("no generation tier configured (gateway.tiers.<name>.base-urls): every answer is extractive");
        }
        this.ordered = List.copyOf(tiers.values());
        built = true;
    }

    private void add(String name, TiersConfig.Tier c) {
        List<String> urls = c.baseUrls().orElse(List.of()).stream().map(String::strip).filter(u -> !u.isEmpty()).toList();
        if (urls.isEmpty()) {
            return;
        }
        Zone zone = c.effectiveZone();
        settings.put(name, new Settings(c.model(), zone, c.maxContextTokens(), c.ttftTimeout().toNanos(),
                c.idleTimeout().toNanos(), new TierMeters(registry, name, c.model()), c));
        List<Replica> replicas = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            String url = urls.get(i);
            // The pool holds a connection per slot the tier's limit can give the replica; the
            // read timeout is only a safety net under the watchdog's first-token and idle limits.
            LangChainBackendClient client = new LangChainBackendClient(vertx, url, c.apiKey().orElse(null),
                    c.maxConcurrency(), c.connectTimeout(), c.ttftTimeout().plus(c.idleTimeout()), c.keepAliveTimeout(),
                    openTelemetry == null ? io.opentelemetry.context.propagation.TextMapPropagator.noop()
                            : openTelemetry.getPropagators().getTextMapPropagator());
            clients.add(client);
            Replica r = new Replica(name, i, url, c.maxConcurrency(), c.initialConcurrency(), client);
            replicas.add(r);
            guards.put(r, replicaGuard(r.circuitName(), c));
            registerReplicaMetrics(r);
        }
        Tier tier = new Tier(name, zone, replicas, c.queueSize(), c.maxQueueWait().toNanos(),
                r -> circuitState(r) != CircuitBreakerState.OPEN,
                r -> circuitState(r) == CircuitBreakerState.HALF_OPEN, System::nanoTime);
        tiers.put(name, tier);
        Gauge.builder(MetricNames.QUEUE_LENGTH, tier, Tier::queueLength).tag("tier", name)
                .description("Requests waiting for a backend slot").register(registry);
        LOG.infof("tier %s (order %d, zone %s): %d replica(s) of model %s, batch size %d", name, c.order(),
                zone.wireName(), replicas.size(), c.model(), c.maxConcurrency());
    }

    /**
     * One replica's circuit breaker. The guarded action only starts a non-blocking call, so it
     * runs inline, within the caller's stack: not {@code withThreadOffload(false)}, which on an
     * event loop makes the guard remember the loop and queue the action on it as a task (with a
     * context capture); "offloaded" to an executor that runs it at once, nothing is queued, and
     * the outcome completes on whatever thread the call completes on.
     */
    static Guard replicaGuard(String circuitName, TiersConfig.Tier c) {
        return Guard.create()
                .withDescription(circuitName)
                .withCircuitBreaker()
                .name(circuitName)
                .requestVolumeThreshold(c.circuitRequestVolume())
                .failureRatio(c.circuitFailureRatio())
                .delay(c.circuitDelay().toMillis(), ChronoUnit.MILLIS)
                .successThreshold(1)
                .skipOn(java.util.List.of(Generator.CallerLeftException.class, BackendRefusedException.class))
                .done()
                .withThreadOffload(true)
                .withThreadOffloadExecutor(Runnable::run)
                .build();
    }

    private void registerReplicaMetrics(Replica r) {
        String[] tags = {"tier", r.tier(), "replica", r.url()};
        Gauge.builder(MetricNames.BACKEND_INFLIGHT, r, Replica::inFlight).tags(tags).register(registry);
        Gauge.builder(MetricNames.BACKEND_LIMIT, r, Replica::limit).tags(tags).register(registry);
        Gauge.builder(MetricNames.BATCH_OCCUPANCY, r, x -> (double) x.inFlight() / x.maxConcurrency()).tags(tags)
                .description("In-flight requests / the backend's batch size").register(registry);
        Gauge.builder(MetricNames.CIRCUIT_STATE, r, x -> switch (circuitState(x)) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            case OPEN -> 2;
        }).tags(tags).description("0 closed, 1 half-open, 2 open").register(registry);
        Gauge.builder(MetricNames.VLLM_RUNNING, r, x -> x.vllm().running()).tags(tags).register(registry);
        Gauge.builder(MetricNames.VLLM_WAITING, r, x -> x.vllm().waiting()).tags(tags).register(registry);
        Gauge.builder(MetricNames.VLLM_KV_CACHE, r, x -> x.vllm().kvCacheUsage()).tags(tags).register(registry);
    }

    /** Tiers in fallback order; empty when none is configured. */
    public List<Tier> tiers() {
        ensureBuilt();
        return ordered;
    }

    /** No lock once built: the request path asks for tiers several times per request. */
    private void ensureBuilt() {
        if (!built) {
            build();
        }
    }

    /** The tier of that name, or null. */
    public Tier tier(String name) {
        ensureBuilt();
        return tiers.get(name);
    }

    /** A configured tier's settings; throws for a name that is not a configured tier. */
    public Settings settings(String name) {
        ensureBuilt();
        Settings s = settings.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tier " + name);
        }
        return s;
    }

    /** The first tier, in fallback order, whose zone is (or is not) inside the edge zone. */
    public Optional<Tier> first(boolean insideEdgeZone) {
        return tiers().stream().filter(t -> t.zone().insideEdgeZone() == insideEdgeZone).findFirst();
    }

    /**
     * Runs one backend call of {@code r} through its circuit breaker: the breaker sees the
     * outcome of {@code call} (completed at the first token, failed before it) and refuses at
     * once while open. A replica without a breaker (unit tests) is called directly.
     */
    CompletionStage<Boolean> guarded(Replica r, Supplier<CompletionStage<Boolean>> call) {
        Guard g = guards.get(r);
        return g == null ? call.get() : g.get(call, FIRST_TOKEN);
    }

    /** The replica's circuit breaker state (closed when unknown). */
    public CircuitBreakerState circuitState(Replica r) {
        if (circuits == null) {
            return CircuitBreakerState.CLOSED; // built without breakers (unit tests)
        }
        try {
            return circuits.currentState(r.circuitName());
        } catch (RuntimeException e) {
            return CircuitBreakerState.CLOSED;
        }
    }

    /**
     * Cluster mode: this gateway is {@code rank} of {@code members} live gateways in front of the
     * same backends; each replica's in-flight cap becomes this gateway's share of its
     * {@code max-concurrency} ({@link Replica#share(int, int, int, int)}), and calls that waited
     * for a slot start at once when a share grew. One member restores the whole limit.
     */
    public void shareBackends(int rank, int members) {
        for (Tier t : tiers()) {
            for (Replica r : t.replicas()) {
                r.share(Replica.share(r.maxConcurrency(), members, rank, r.index()));
            }
            t.pump();
        }
    }

    /** Resets every circuit breaker (tests, operators after maintenance). */
    public void resetCircuits() {
        build();
        if (circuits == null) {
            return;
        }
        for (Replica r : guards.keySet()) {
            circuits.reset(r.circuitName());
        }
    }

    void onStop(@Observes ShutdownEvent e) {
        for (LangChainBackendClient c : clients) {
            c.close();
        }
    }
}
