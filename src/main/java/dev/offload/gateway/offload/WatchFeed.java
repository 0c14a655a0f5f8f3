package dev.offload.gateway.offload;

import dev.offload.gateway.offload.policy.GatewaySnapshot;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The fan-out behind {@code Watch} and {@code GET /v1/offload/watch}: one shared
 * {@link GatewaySnapshot} of the gateway's state, published to every watcher when it changes and
 * again at a heartbeat, each publication encoded once per transport ({@link Publication#encoded})
 * however many devices watch. A watcher gets the current snapshot as soon as it opens.
 *
 * <p>Change detection is by sampling: {@link #tick} (the caller's timer, every
 * {@code gateway.watch.interval}) reads the state and publishes it if it differs from the last
 * one in anything the policy reads, so changes are coalesced to at most one publication per tick.
 *
 * <p>Bounded: at most {@code maxPerDevice} open watchers per device key and {@code maxPerTenant}
 * per tenant; {@link #open} beyond that throws {@link LimitExceeded}. A watcher is one object,
 * closed exactly once (the transport closes it when the device disconnects).
 *
 * <p>Thread-safe. Sinks are called under the feed's lock and must not block (they emit to a
 * stream or write to a connection).
 */
public final class WatchFeed {
    private final Supplier<GatewaySnapshot> state;
    private final LongSupplier clockMs;
    private final long heartbeatMs;
    private final long validityMs;
    private final int maxPerDevice;
    private final int maxPerTenant;
    private final Set<Watcher> watchers = new LinkedHashSet<>();
    private final Map<String, Integer> perDevice = new HashMap<>();
    private final Map<String, Integer> perTenant = new HashMap<>();
    private long version;
    private long lastSentMs;
    private Publication current;

    /**
     * @param state        the gateway's state now (its version and times are ignored: the feed numbers them)
     * @param clockMs      milliseconds, for the heartbeat and the snapshots' {@code issuedAtMs}
     * @param heartbeatMs  republish an unchanged snapshot after this long
     * @param validityMs   each snapshot's {@code validForMs}; more than the heartbeat, so that a device
     *                     holding a valid snapshot has lost the stream only once it runs out
     */
    public WatchFeed(Supplier<GatewaySnapshot> state, LongSupplier clockMs, long heartbeatMs, long validityMs,
                     int maxPerDevice, int maxPerTenant) {
        if (heartbeatMs < 1 || validityMs <= heartbeatMs) {
            throw new IllegalArgumentException("heartbeat must be >= 1 ms and validity longer than the heartbeat");
        }
        if (maxPerDevice < 1 || maxPerTenant < 1) {
            throw new IllegalArgumentException("watcher limits must be >= 1");
        }
        this.state = Objects.requireNonNull(state);
        this.clockMs = Objects.requireNonNull(clockMs);
        this.heartbeatMs = heartbeatMs;
        this.validityMs = validityMs;
        this.maxPerDevice = maxPerDevice;
        this.maxPerTenant = maxPerTenant;
    }

    /** One published snapshot and its encodings, each computed once. */
    public static final class Publication {
        private final GatewaySnapshot snapshot;
        private final Map<Function<GatewaySnapshot, ?>, Object> encoded = new ConcurrentHashMap<>(4);

        Publication(GatewaySnapshot snapshot) {
            this.snapshot = snapshot;
        }

        public GatewaySnapshot snapshot() {
            return snapshot;
        }

        /**
         * The snapshot in one transport's form, encoded by the first watcher that needs it and shared
         * by all others. {@code encoder} must be one long-lived instance per transport (a constant).
         */
        @SuppressWarnings("unchecked")
        public <T> T encoded(Function<GatewaySnapshot, T> encoder) {
            return (T) encoded.computeIfAbsent(encoder, e -> e.apply(snapshot));
        }
    }

    /** {@link #open} refused: this device or tenant has as many watchers open as it may. */
    public static final class LimitExceeded extends RuntimeException {
        private final String limit;

        LimitExceeded(String limit, String detail) {
            super(detail, null, false, false);
            this.limit = limit;
        }

        /** {@code device} or {@code tenant}. */
        public String limit() {
            return limit;
        }
    }

    /** One device's open watch. */
    public final class Watcher implements AutoCloseable {
        private final String tenant;
        private final String device;
        private final Consumer<Publication> sink;
        private final Runnable onClose;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Watcher(String tenant, String device, Consumer<Publication> sink, Runnable onClose) {
            this.tenant = tenant;
            this.device = device;
            this.sink = sink;
            this.onClose = onClose;
        }

        /** Stops the deliveries and frees the watcher's place; idempotent. */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                synchronized (WatchFeed.this) {
                    watchers.remove(this);
                    decrement(perDevice, tenant + '\u0000' + device);
                    decrement(perTenant, tenant);
                }
                onClose.run();
            }
        }

        public boolean closed() {
            return closed.get();
        }
    }

    /**
     * Opens a watch for one device and delivers the current snapshot to {@code sink} before it returns.
     *
     * @throws LimitExceeded over {@code maxPerDevice} or {@code maxPerTenant}
     */
    public Watcher open(String tenant, String device, Consumer<Publication> sink) {
        return open(tenant, device, sink, () -> { });
    }

    /** {@link #open}, and {@code onClose} runs once when the watcher closes (whoever closes it). */
    public Watcher open(String tenant, String device, Consumer<Publication> sink, Runnable onClose) {
        Objects.requireNonNull(sink);
        Objects.requireNonNull(onClose);
        synchronized (this) {
            String key = tenant + '\u0000' + device;
            if (perDevice.getOrDefault(key, 0) >= maxPerDevice) {
                throw new LimitExceeded("device", "this device already has " + maxPerDevice
                        + " watches open (gateway.watch.max-per-device); close one first");
            }
            if (perTenant.getOrDefault(tenant, 0) >= maxPerTenant) {
                throw new LimitExceeded("tenant", "this tenant already has " + maxPerTenant
                        + " watches open (gateway.watch.max-per-tenant)");
            }
            Watcher w = new Watcher(tenant, device, sink, onClose);
            perDevice.merge(key, 1, Integer::sum);
            perTenant.merge(tenant, 1, Integer::sum);
            refresh(false);
            watchers.add(w);
            deliver(w, current);
            return w;
        }
    }

    /** Publishes the state if it changed since the last publication or the heartbeat is due. */
    public void tick() {
        synchronized (this) {
            refresh(true);
        }
    }

    /** The last publication (null before the first). */
    public synchronized Publication current() {
        return current;
    }

    public synchronized int watchers() {
        return watchers.size();
    }

    private void refresh(boolean heartbeat) {
        long now = clockMs.getAsLong();
        GatewaySnapshot s = state.get();
        boolean changed = current == null || !current.snapshot().sameState(s) || current.snapshot().epoch() != s.epoch();
        if (changed) {
            version++;
        } else if (!heartbeat || now - lastSentMs < heartbeatMs) {
            return;
        }
        current = new Publication(s.reissued(version, now, validityMs));
        if (!changed && watchers.isEmpty()) {
            return; // nobody to beat for
        }
        lastSentMs = now;
        List<Watcher> all = new ArrayList<>(watchers);
        for (Watcher w : all) {
            deliver(w, current);
        }
    }

    private void deliver(Watcher w, Publication p) {
        try {
            w.sink.accept(p);
        } catch (RuntimeException e) {
            // A broken connection: its transport closes the watcher; the others still get theirs.
            w.close();
        }
    }

    private static void decrement(Map<String, Integer> counts, String key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }
}
