package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.cache.CacheEntryStored;
import dev.offload.gateway.cache.CacheScope;
import dev.offload.gateway.cache.CachedSource;
import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.retrieval.IndexRecords.StoredDocument;
import dev.offload.gateway.retrieval.IngestionService;
import dev.offload.gateway.retrieval.SharedIndex;
import io.nats.client.Connection;
import io.nats.client.IterableConsumer;
import io.nats.client.Message;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.OrderedConsumerConfiguration;
import io.nats.client.impl.Headers;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * One semantic cache for the cluster: every answer a replica stores is published on the cache
 * stream, and every other replica stores it too, so whether a paraphrase hits does not depend on
 * the replica a device reaches.
 *
 * <p>Invalidations need no messages of their own: a document change reaches every replica through
 * the index log, and its apply drops the answers built from the document there
 * ({@code DocumentsChanged}), in the log's order. What remains is an entry published before a
 * change it did not see but arriving after it: each entry carries the index sequence its sources
 * were retrieved at, and a replica that already holds a newer version of one of them (or no
 * longer holds it) refuses the entry. An entry that arrives before the change it predates is
 * stored and then dropped by that change's apply, as on the replica that computed it.
 *
 * <p>Publishing is asynchronous and best effort (a lost entry is a later miss, never a wrong
 * hit); one thread ({@code cluster-cache}) applies the stream, starting with the entries it
 * still retains (the stream keeps them for the cache's TTL), so a restarted replica is warm.
 */
@ApplicationScoped
public class SharedCacheReplication {
    private static final Logger LOG = Logger.getLogger(SharedCacheReplication.class);
    private static final Duration POLL = Duration.ofMillis(500);

    @Inject
    NatsCluster nats;
    @Inject
    SemanticCache cache;
    @Inject
    SharedIndex index;
    @Inject
    IngestionService documents;
    @Inject
    ObjectMapper json;

    private final LongAdder published = new LongAdder();
    private final LongAdder stored = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private volatile boolean stopping;
    private Thread follower;

    /** The wire form of an entry: the embedding as little-endian floats (base64 in JSON). */
    record WireEntry(String tenant, Map<String, String> filters, String sensitivity, String tier, String historyDigest,
                     String query, byte[] embedding, String answer, List<CachedSource> sources, long indexSequence) {
    }

    void onStart(@Observes StartupEvent e) {
        if (!nats.enabled()) {
            return;
        }
        follower = new Thread(this::run, "cluster-cache");
        follower.setDaemon(true);
        follower.start();
    }

    void onStop(@Observes ShutdownEvent e) {
        stopping = true;
        Thread t = follower;
        if (t != null) {
            t.interrupt();
        }
    }

    /** Publishes an answer this replica stored; never blocks the (I/O) thread that stored it. */
    void onStored(@Observes CacheEntryStored e) {
        if (!nats.enabled()) {
            return;
        }
        Connection c = nats.connectionIfUp();
        if (c == null) {
            return; // NATS down: this replica's own cache still has it
        }
        try {
            CacheScope s = e.scope();
            byte[] body = json.writeValueAsBytes(new WireEntry(e.tenant(), s.filters(), s.sensitivity(), s.tier(),
                    s.historyDigest(), e.query(), floats(e.embedding()), e.answer(), e.sources(), e.indexSequence()));
            Headers h = new Headers().put(JetStreamIndexLog.ORIGIN_HEADER, nats.nodeName());
            c.jetStream().publishAsync(nats.cacheSubject(), h, body).whenComplete((ack, err) -> {
                if (err != null) {
                    LOG.debugf("cache entry not shared: %s", err.toString());
                } else {
                    published.increment();
                }
            });
        } catch (IOException | RuntimeException ex) {
            LOG.debugf("cache entry not shared: %s", ex.toString());
        }
    }

    /** Entries published, stored from other replicas, refused as stale (for tests and stats). */
    public long[] counts() {
        return new long[] {published.sum(), stored.sum(), refused.sum()};
    }

    private void run() {
        try {
            Connection c = nats.connected().get();
            index.whenOpen().get();
            while (!stopping) {
                try (IterableConsumer it = c.getStreamContext(nats.cacheStream()).createOrderedConsumer(
                        new OrderedConsumerConfiguration().filterSubject(nats.cacheSubject())
                                .deliverPolicy(DeliverPolicy.All)).iterate()) {
                    // The ordered consumer resumes after the last entry it delivered across reconnects.
                    while (!stopping) {
                        Message m = it.nextMessage(POLL);
                        if (m != null) {
                            receive(m);
                        }
                    }
                } catch (InterruptedException ie) {
                    throw ie;
                } catch (Exception ex) {
                    if (!stopping) {
                        LOG.infof("cache stream consumer stopped (%s); restarting", ex.toString());
                        Thread.sleep(1000);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.error("shared cache follower failed; this replica's cache stays local", e);
        }
    }

    private void receive(Message m) throws IOException {
        String origin = m.getHeaders() == null ? null : m.getHeaders().getFirst(JetStreamIndexLog.ORIGIN_HEADER);
        if (nats.nodeName().equals(origin)) {
            return; // stored here already
        }
        WireEntry w = json.readValue(m.getData(), WireEntry.class);
        // The ticket first: a change applied after this point voids the put (or drops the entry).
        long ticket = cache.ticket();
        if (!fresh(w)) {
            refused.increment();
            return;
        }
        CacheScope scope = new CacheScope(w.filters(), w.sensitivity(), w.tier(), w.historyDigest());
        if (cache.put(ticket, w.tenant(), scope, w.query(), floats(w.embedding()), w.answer(), w.sources())) {
            stored.increment();
        } else {
            refused.increment();
        }
    }

    /**
     * False if this replica has applied a change to one of the entry's documents after the entry's
     * sources were retrieved. Documents this replica has not reached yet are fine: their change is
     * still to come here and will drop the entry.
     */
    private boolean fresh(WireEntry w) {
        if (w.indexSequence() > index.appliedSequence()) {
            return true;
        }
        for (CachedSource s : w.sources()) {
            Optional<StoredDocument> d = documents.get(w.tenant(), s.documentId());
            if (d.isEmpty() || d.get().version() > w.indexSequence()) {
                return false;
            }
        }
        return true;
    }

    static byte[] floats(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    static float[] floats(byte[] bytes) {
        float[] v = new float[bytes.length / 4];
        java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
