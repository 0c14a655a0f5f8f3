package dev.offload.gateway.cluster;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * This replica's one NATS connection and the streams it uses. {@link #connected()} completes once
 * the connection is up and both streams exist (created by whichever replica gets there first;
 * creating an identical stream again is a no-op); the client then reconnects for ever on its own.
 *
 * <p>No reconnect buffer: while the connection is down a publish fails at once instead of being
 * sent later, so a write refused with 503 is never applied behind the caller's back.
 *
 * <p>Thread-safe. {@link #start()} blocks (it is called on the cluster's start-up thread).
 */
@ApplicationScoped
public class NatsCluster {
    private static final Logger LOG = Logger.getLogger(NatsCluster.class);
    public static final String INDEX_SUBJECT_SUFFIX = ".records";
    public static final String CACHE_SUBJECT_SUFFIX = ".entries";

    @Inject
    ClusterConfig config;
    @Inject
    dev.offload.gateway.cache.CacheConfig cacheConfig;

    private final CompletableFuture<Connection> connected = new CompletableFuture<>();
    private volatile Connection connection;
    private volatile boolean stopping;
    private final java.util.concurrent.atomic.AtomicBoolean up = new java.util.concurrent.atomic.AtomicBoolean(true);
    private String nodeName;

    public boolean enabled() {
        return config.natsUrl().filter(l -> !l.isEmpty() && l.stream().anyMatch(s -> !s.isBlank())).isPresent();
    }

    /** This replica's name: {@code gateway.cluster.node-name}, or host name and pid. */
    public synchronized String nodeName() {
        if (nodeName == null) {
            nodeName = config.nodeName().orElseGet(() -> {
                String host;
                try {
                    host = InetAddress.getLocalHost().getHostName();
                } catch (IOException e) {
                    host = "gateway";
                }
                return host + "-" + ProcessHandle.current().pid();
            });
        }
        return nodeName;
    }

    String indexSubject() {
        return config.stream().toLowerCase(java.util.Locale.ROOT) + INDEX_SUBJECT_SUFFIX;
    }

    String cacheStream() {
        return config.cacheStream();
    }

    String cacheSubject() {
        return config.cacheStream().toLowerCase(java.util.Locale.ROOT) + CACHE_SUBJECT_SUFFIX;
    }

    /** Completes with the connection once it is up and the streams exist. */
    public CompletableFuture<Connection> connected() {
        return connected;
    }

    /** The connection if it is up right now, else null. */
    public Connection connectionIfUp() {
        Connection c = connection;
        return c != null && c.getStatus() == Connection.Status.CONNECTED ? c : null;
    }

    /** Connects (retrying until it succeeds or the process stops) and makes sure both streams exist. */
    void start() throws InterruptedException {
        String[] servers = config.natsUrl().orElseThrow().stream().map(String::strip).filter(s -> !s.isEmpty())
                .toArray(String[]::new);
        Options.Builder builder = Options.builder().servers(servers).connectionName(nodeName());
        checkCredentials();
        config.user().filter(u -> !u.isBlank()).ifPresent(u -> builder.userInfo(u, config.password().orElseThrow()));
        config.credentialsFile().ifPresent(builder::credentialPath);
        Options options = builder
                .maxReconnects(-1).reconnectWait(Duration.ofMillis(250)).reconnectJitter(Duration.ofMillis(100))
                .connectionTimeout(config.connectTimeout()).pingInterval(Duration.ofSeconds(2))
                .reconnectBufferSize(0)
                .connectionListener((conn, event) -> {
                    // Once per outage, not once per failed reconnect attempt.
                    if (event == ConnectionListener.Events.DISCONNECTED && up.compareAndSet(true, false)) {
                        LOG.warn("NATS connection lost: writes are refused until it is back; reads go on");
                    } else if (event == ConnectionListener.Events.RECONNECTED && up.compareAndSet(false, true)) {
                        LOG.infof("NATS connection back (%s)", redacted(conn.getConnectedUrl()));
                    }
                })
                .errorListener(new ErrorListener() {
                    // The server's -ERR lines, e.g. a permissions violation: otherwise silent.
                    @Override
                    public void errorOccurred(Connection conn, String error) {
                        LOG.warnf("NATS server error: %s", error);
                    }
                })
                .build();
        Connection c = null;
        while (c == null && !stopping) {
            try {
                c = Nats.connect(options);
            } catch (IOException e) {
                LOG.warnf("NATS not reachable at %s (%s); retrying", redacted(servers), e.getMessage());
                Thread.sleep(1000);
            }
        }
        if (c == null) {
            return;
        }
        connection = c;
        while (!stopping) {
            try {
                ensureStreams(c);
                break;
            } catch (IOException | JetStreamApiException e) {
                // A fresh NATS cluster elects its JetStream leader first: a few seconds.
                LOG.infof("JetStream not ready yet (%s); retrying", e.getMessage());
                Thread.sleep(1000);
            }
        }
        LOG.infof("cluster node %s connected to NATS %s (streams %s, %s, R%d)", nodeName(), redacted(c.getConnectedUrl()),
                config.stream(), config.cacheStream(), config.replicas());
        connected.complete(c);
    }

    /**
     * Refuses, at start, credentials that cannot work: a user without a password (or the other
     * way round), or a user and a credentials file at once (NATS takes one way to authenticate).
     */
    void checkCredentials() {
        checkCredentials(config.user(), config.password(), config.credentialsFile());
    }

    static void checkCredentials(Optional<String> userName, Optional<String> password, Optional<String> credentialsFile) {
        boolean user = userName.filter(u -> !u.isBlank()).isPresent();
        boolean secret = password.filter(p -> !p.isEmpty()).isPresent();
        if (user != secret) {
            throw new IllegalStateException("gateway.cluster.user and gateway.cluster.password go together: "
                    + (user ? "the password is missing" : "the user is missing"));
        }
        if (user && credentialsFile.isPresent()) {
            throw new IllegalStateException("set either gateway.cluster.user/password or gateway.cluster.credentials-file, not both");
        }
        credentialsFile.ifPresent(f -> {
            if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(f))) {
                throw new IllegalStateException("gateway.cluster.credentials-file " + f + " is not a readable file");
            }
        });
    }

    /** Server URLs as they may be logged: any user:password in them replaced by "***". */
    static String redacted(String... urls) {
        return java.util.Arrays.stream(urls).filter(java.util.Objects::nonNull)
                .map(u -> u.replaceAll("(?<=://)[^@/]*@", "***@")).collect(java.util.stream.Collectors.joining(","));
    }

    private void ensureStreams(Connection c) throws IOException, JetStreamApiException {
        JetStreamManagement jsm = c.jetStreamManagement();
        StreamConfiguration index = StreamConfiguration.builder().name(config.stream()).subjects(indexSubject())
                .storageType(StorageType.File).replicas(config.replicas()).maxBytes(config.maxStreamBytes())
                .discardPolicy(DiscardPolicy.New).duplicateWindow(Duration.ofMinutes(2)).build();
        StreamConfiguration cache = StreamConfiguration.builder().name(config.cacheStream()).subjects(cacheSubject())
                .storageType(StorageType.File).replicas(config.replicas()).maxAge(cacheConfig.ttl())
                .discardPolicy(DiscardPolicy.Old).build();
        for (StreamConfiguration sc : new StreamConfiguration[] {index, cache}) {
            try {
                jsm.getStreamInfo(sc.getName());
            } catch (JetStreamApiException notFound) {
                if (notFound.getErrorCode() != 404) {
                    throw notFound;
                }
                try {
                    jsm.addStream(sc);
                } catch (JetStreamApiException e) {
                    if (e.getApiErrorCode() != 10058) { // another replica created it meanwhile
                        throw e;
                    }
                }
            }
        }
    }

    void onStop(@Observes ShutdownEvent e) {
        stopping = true;
        connected.cancel(false);
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
