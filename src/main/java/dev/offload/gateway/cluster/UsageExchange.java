package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.security.DeviceRateLimiter;
import dev.offload.gateway.security.TenantGenerationLimiter;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The usage gossip behind the cluster-wide limits. Every {@code usage-interval} each replica
 * publishes, on a core NATS subject, what it granted since its last report (device-rate tokens
 * per key hash) and what it holds now (tenant generations in flight); every replica applies the
 * others' reports to its local limiters: grants are debited from its copy of each device's
 * bucket, in-flight counts are summed per tenant over the live members. Decisions stay local;
 * the limits lag by about one interval (what cluster.md quantifies).
 *
 * <p>Core NATS, not JetStream: a report is worth something for one interval only. A lost
 * report (a reconnect) lets a device overdraw by what it contained; nothing is ever counted twice.
 *
 * <p>Plain Java over a NATS connection. {@link #publish()} from one scheduler thread; reports
 * arrive on the connection's dispatcher thread; the rest from any thread.
 */
public final class UsageExchange implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(UsageExchange.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One report. {@code devices}: grants since the last report; {@code tenants}: generations in flight now. */
    public record Report(String node, Map<String, Long> devices, Map<String, Integer> tenants) {
    }

    private record Heard(Map<String, Integer> tenants, long atNanos) {
    }

    private final Supplier<Connection> connection;
    private final String subject;
    private final String node;
    private final DeviceRateLimiter devices;
    private final TenantGenerationLimiter tenants;
    private final LongSupplier nanoClock;
    private final long staleAfterNanos;
    private final Map<String, Heard> heard = new ConcurrentHashMap<>();
    private final LongAdder sent = new LongAdder();
    private final LongAdder received = new LongAdder();
    private Dispatcher dispatcher;
    private Connection subscribedOn;

    /**
     * @param staleAfterNanos a member's in-flight report older than this no longer counts (the member timeout)
     */
    public UsageExchange(Supplier<Connection> connection, String subject, String node, DeviceRateLimiter devices,
                         TenantGenerationLimiter tenants, long staleAfterNanos, LongSupplier nanoClock) {
        this.connection = connection;
        this.subject = subject;
        this.node = node;
        this.devices = devices;
        this.tenants = tenants;
        this.staleAfterNanos = staleAfterNanos;
        this.nanoClock = nanoClock;
        devices.trackUsage();
    }

    /** Subscribes once per connection (a core subscription survives the client's reconnects on its own). */
    private void subscribe(Connection c) {
        if (subscribedOn == c) {
            return;
        }
        dispatcher = c.createDispatcher(this::receive);
        dispatcher.subscribe(subject);
        subscribedOn = c;
    }

    /**
     * Reports this replica's usage since the last call. The grants are taken either way: while
     * NATS is down this replica runs on its share, and its grants then must not be charged to
     * the others later. Returns false when nothing could be sent.
     */
    public boolean publish() {
        Map<String, Long> granted = devices.drainUsage();
        Connection c = connection.get();
        if (c == null) {
            return false;
        }
        try {
            subscribe(c);
            c.publish(subject, JSON.writeValueAsBytes(new Report(node, granted, tenants.localInFlight())));
            sent.increment();
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.debugf("usage report not sent: %s", e.toString());
            return false;
        }
    }

    private void receive(Message m) {
        Report r;
        try {
            r = JSON.readValue(m.getData(), Report.class);
        } catch (IOException e) {
            LOG.debugf("unreadable usage report ignored: %s", e.toString());
            return;
        }
        if (r.node() == null || r.node().equals(node)) {
            return;
        }
        received.increment();
        if (r.devices() != null) {
            r.devices().forEach((k, n) -> {
                if (k != null && n != null && n > 0) {
                    devices.debit(k, n);
                }
            });
        }
        heard.put(r.node(), new Heard(r.tenants() == null ? Map.of() : Map.copyOf(r.tenants()), nanoClock.getAsLong()));
    }

    /**
     * Sums the tenants' in-flight generations over the other replicas among {@code members}
     * whose last report is fresh; forgets the reports of replicas that are gone.
     */
    public Map<String, Integer> othersInFlight(Collection<String> members) {
        long now = nanoClock.getAsLong();
        Map<String, Integer> sum = new HashMap<>();
        heard.entrySet().removeIf(e -> now - e.getValue().atNanos() > staleAfterNanos);
        heard.forEach((n, h) -> {
            if (members.contains(ClusterMembership.key(n))) {
                h.tenants().forEach((t, v) -> sum.merge(t, v, Integer::sum));
            }
        });
        return sum;
    }

    /** Reports sent and received so far (tests, diagnostics). */
    public long[] counts() {
        return new long[] {sent.sum(), received.sum()};
    }

    @Override
    public void close() {
        Dispatcher d = dispatcher;
        Connection c = subscribedOn;
        if (d != null && c != null) {
            try {
                c.closeDispatcher(d);
            } catch (RuntimeException e) {
                LOG.debugf("closing the usage dispatcher: %s", e.toString());
            }
        }
    }
}
