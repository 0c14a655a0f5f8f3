package dev.offload.gateway.cluster;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.StorageType;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Which gateway replicas are alive, from heartbeats in a JetStream key-value bucket: every
 * replica puts its own key every heartbeat, and the bucket's max age (the member timeout) makes
 * the keys of replicas that stopped writing disappear; a replica that stops gracefully deletes
 * its key at once. The live members are the bucket's keys, read after each heartbeat, in name
 * order (the same order on every replica: the rank that splits backend slots).
 *
 * <p>Why the bucket's max age and not a per-key TTL: NATS 2.9 (Debian's) has none; a bucket
 * with history 1 whose every key is rewritten each heartbeat is exactly a table of leases.
 * Liveness then rests on the server's clock alone, never on a comparison of replicas' clocks.
 *
 * <p>Plain Java over a NATS connection (tests drive it against a real {@code nats-server}).
 * {@link #heartbeat()} blocks for a few requests: call it from one scheduler thread;
 * {@link #view()} from any thread.
 */
public final class ClusterMembership {
    private static final Logger LOG = Logger.getLogger(ClusterMembership.class);

    /**
     * The last member list read: names in order, whether this replica itself is among them, and
     * when it was read ({@code readAtNanos} of the injected clock; {@link Long#MIN_VALUE}: never).
     */
    public record View(List<String> members, long readAtNanos) {
        public View {
            members = List.copyOf(members);
        }

        public int size() {
            return members.size();
        }
    }

    private final Supplier<Connection> connection;
    private final String bucket;
    private final String node;
    private final String key;
    private final Duration memberTimeout;
    private final int replicas;
    private final LongSupplier nanoClock;
    private volatile View view;
    /** This replica's applied index sequence, carried in its heartbeat (-1: not reported). */
    private volatile LongSupplier progress = () -> -1;
    private KeyValue kv;
    private Connection kvOf;
    private boolean warned;

    /**
     * @param connection     the connection if it is up now, else null
     * @param node           this replica's name
     * @param initialMembers how many members to assume until the first list is read
     * @param replicas       JetStream replicas of the bucket (at most the NATS cluster's size)
     */
    public ClusterMembership(Supplier<Connection> connection, String bucket, String node, Duration memberTimeout,
                             int replicas, int initialMembers, LongSupplier nanoClock) {
        if (memberTimeout.isNegative() || memberTimeout.isZero()) {
            throw new IllegalArgumentException("memberTimeout must be positive: " + memberTimeout);
        }
        if (initialMembers < 1 || replicas < 1) {
            throw new IllegalArgumentException("initialMembers and replicas must be at least 1");
        }
        this.connection = connection;
        this.bucket = bucket;
        this.node = node;
        this.key = key(node);
        this.memberTimeout = memberTimeout;
        this.replicas = replicas;
        this.nanoClock = nanoClock;
        List<String> assumed = new ArrayList<>();
        assumed.add(key);
        for (int i = 1; i < initialMembers; i++) {
            assumed.add("?" + i); // placeholders: only the count is known
        }
        this.view = new View(assumed, Long.MIN_VALUE);
    }

    /** A node name as a key-value key: only {@code [-_=.a-zA-Z0-9]}, others become {@code _}. */
    static String key(String node) {
        StringBuilder b = new StringBuilder(node.length());
        for (char ch : node.toCharArray()) {
            b.append(ch < 128 && (Character.isLetterOrDigit(ch) || ch == '-' || ch == '_' || ch == '=') ? ch : '_');
        }
        return b.isEmpty() ? "_" : b.toString();
    }

    /** This replica's key (its name as the member list spells it). */
    public String self() {
        return key;
    }

    /** The last member list read (or assumed at start). */
    public View view() {
        return view;
    }

    /** This replica's rank in the last list (its position in name order); 0 if it is not in it. */
    public int rank() {
        int i = view.members().indexOf(key);
        return Math.max(0, i);
    }

    /** True when the last list was read within the member timeout. */
    public boolean fresh() {
        long at = view.readAtNanos();
        return at != Long.MIN_VALUE && nanoClock.getAsLong() - at <= memberTimeout.toNanos();
    }

    /**
     * Writes this replica's heartbeat and reads the member list; false (the view kept as it
     * was) when NATS cannot be reached.
     */
    public boolean heartbeat() throws InterruptedException {
        Connection c = connection.get();
        if (c == null) {
            return false;
        }
        try {
            KeyValue store = bucket(c);
            store.put(key, heartbeatValue(node, progress.getAsLong()));
            // A set: keys() walks the bucket with a consumer, and a key rewritten during the walk comes twice.
            List<String> keys = new ArrayList<>(new java.util.TreeSet<>(store.keys()));
            if (!keys.contains(key)) {
                keys.add(key); // just written: a list read a moment too early still holds this replica
            }
            keys.sort(null);
            View before = view;
            view = new View(keys, nanoClock.getAsLong());
            if (!before.members().equals(keys)) {
                LOG.infof("cluster members (%d): %s", keys.size(), String.join(", ", keys));
            }
            warned = false;
            return true;
        } catch (IOException | JetStreamApiException | IllegalStateException e) {
            if (!warned) {
                LOG.warnf("cluster heartbeat failed (%s); limits fall back to this replica's share once the member list is %s old",
                        e.getMessage(), memberTimeout);
                warned = true;
            }
            kv = null; // look the bucket up again next time (NATS may have lost it)
            return false;
        }
    }

    private KeyValue bucket(Connection c) throws IOException, JetStreamApiException {
        if (kv != null && kvOf == c) {
            return kv;
        }
        KeyValueManagement kvm = c.keyValueManagement();
        try {
            kvm.getBucketInfo(bucket);
        } catch (JetStreamApiException notFound) {
            if (notFound.getErrorCode() != 404) {
                throw notFound;
            }
            try {
                kvm.create(KeyValueConfiguration.builder().name(bucket).maxHistoryPerKey(1).ttl(memberTimeout)
                        .storageType(StorageType.Memory).replicas(replicas).build());
            } catch (JetStreamApiException e) {
                if (e.getApiErrorCode() != 10058) { // another replica created it meanwhile
                    throw e;
                }
            }
        }
        kv = c.keyValue(bucket);
        kvOf = c;
        return kv;
    }

    /**
     * Makes every later heartbeat carry {@code applied} (this replica's applied index sequence),
     * so the replica that bounds the index stream sees how far the slowest live member is.
     */
    public void reportProgress(LongSupplier applied) {
        this.progress = applied;
    }

    /** A heartbeat's value: the node name, then on a second line its applied sequence when known. */
    static byte[] heartbeatValue(String node, long applied) {
        return (applied < 0 ? node : node + "\n" + applied).getBytes(StandardCharsets.UTF_8);
    }

    /** The applied sequence a heartbeat value carries; -1 when it carries none. */
    static long progressOf(byte[] value) {
        String v = value == null ? "" : new String(value, StandardCharsets.UTF_8);
        int nl = v.indexOf('\n');
        if (nl < 0) {
            return -1;
        }
        try {
            return Long.parseLong(v.substring(nl + 1).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Reads every live member's last heartbeat now: member key → the applied sequence it reported
     * (-1: none, e.g. a replica that does not report it). Blocks for one request per member; empty
     * when NATS cannot be reached. Any thread (it does not share the heartbeat's bucket handle).
     */
    public java.util.Map<String, Long> progress() throws InterruptedException {
        Connection c = connection.get();
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        if (c == null) {
            return out;
        }
        try {
            KeyValue store = c.keyValue(bucket);
            for (String k : store.keys()) {
                io.nats.client.api.KeyValueEntry e = store.get(k);
                if (e != null && e.getValue() != null) {
                    out.put(k, progressOf(e.getValue()));
                }
            }
        } catch (IOException | JetStreamApiException | IllegalStateException e) {
            LOG.debugf("reading the members' progress failed (%s)", e.getMessage());
            out.clear();
        }
        return out;
    }

    /** Deletes this replica's key (a graceful stop): the others see it gone at their next heartbeat. */
    public void leave() {
        Connection c = connection.get();
        if (c == null) {
            return;
        }
        try {
            bucket(c).delete(key);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            LOG.debugf("leaving the member list failed (%s); the key expires in %s", e.getMessage(), memberTimeout);
        }
    }
}
