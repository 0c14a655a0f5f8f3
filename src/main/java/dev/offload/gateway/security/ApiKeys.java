package dev.offload.gateway.security;

import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The keys file: loaded before the first request is served, then re-read every
 * {@code gateway.auth.reload-interval} and on demand ({@code POST /v1/admin/keys/reload}).
 * The file's content is compared, not its modification time, so a rewrite within the file
 * system's timestamp granularity (or a Kubernetes Secret swapping a symlink) is still seen.
 * If the file cannot be read, the last good keys stay in force and the failure is logged and
 * counted; to revoke every key, empty the file.
 *
 * <p>{@link #ring()} is a volatile read: any thread, including the event loop.
 */
@Singleton
@Startup
public class ApiKeys {
    private static final Logger LOG = Logger.getLogger(ApiKeys.class);

    /** What a reload found. */
    public record ReloadResult(boolean changed, int keys, int tenants, List<KeyRing.Problem> problems) {
    }

    @Inject
    AuthConfig config;
    @ConfigProperty(name = "gateway.data-dir", defaultValue = "data")
    String dataDir;
    @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080")
    int port;
    @Inject
    MeterRegistry registry;

    private volatile KeyRing ring = KeyRing.EMPTY;
    private byte[] loadedDigest;
    private Path file;
    private ScheduledExecutorService watcher;

    @PostConstruct
    void start() {
        if (!config.enabled()) {
            LOG.warn("gateway.auth.enabled=false: API keys are NOT checked; every caller is the tenant 'default' "
                    + "with the admin role. Never run like this where anyone else can reach the gateway.");
            return;
        }
        file = config.keysFile().map(Path::of).orElse(Path.of(dataDir, "keys")).toAbsolutePath();
        try {
            if (config.keysFile().isEmpty()) {
                Optional<String> generated = EmbeddedKey.createIfMissing(file, new SecureRandom());
                generated.ifPresent(key -> announce(key, file, port, System.out));
            } else if (!Files.isRegularFile(file)) {
                throw new IllegalStateException("gateway.auth.keys-file=" + file + " does not exist or is not a file; "
                        + "create it (lines '<sha256-hex-of-key> <tenant> <device|admin>') or unset the key to "
                        + "have one generated under the data dir");
            }
            reload();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the keys file " + file, e);
        }
        Gauge.builder(MetricNames.AUTH_KEYS, this, k -> k.ring.size())
                .description("API keys currently accepted").register(registry);
        // Both outcomes exist from start, so dashboards and alerts see 0 rather than no series.
        registry.counter(MetricNames.AUTH_RELOADS, "result", "applied");
        registry.counter(MetricNames.AUTH_RELOADS, "result", "failed");
        long ms = Math.max(1, config.reloadInterval().toMillis());
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keys-file-watcher");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(this::reloadQuietly, ms, ms, TimeUnit.MILLISECONDS);
    }

    /**
     * The one time a generated key is shown. Printed to the console rather than logged, so it
     * does not travel into log files or log shippers with the rest of the gateway's logs.
     */
    static void announce(String key, Path file, int port, PrintStream out) {
        String bar = "=".repeat(78);
        out.println(bar);
        out.println(" No API keys file was configured, so one ADMIN key for tenant 'default' was generated.");
        out.println(" It is shown only this once; " + file + " keeps just its SHA-256.");
        out.println();
        out.println("     " + key);
        out.println();
        out.println(" Use it on every call:  curl -H 'Authorization: Bearer " + key + "' localhost:" + port + "/v1/index/stats");
        out.println(" Add a device key:      printf %s \"$KEY\" | sha256sum   then append '<hash> <tenant> device' to");
        out.println("                        that file (re-read within gateway.auth.reload-interval).");
        out.println(" Lost it? Delete the file and restart: a new key is generated and printed.");
        out.println(bar);
        out.flush();
    }

    /** The keys in force now (empty when authentication is disabled). */
    public KeyRing ring() {
        return ring;
    }

    public boolean enabled() {
        return config.enabled();
    }

    /** Re-reads the file now; applies it if its content changed. */
    public synchronized ReloadResult reload() throws IOException {
        if (file == null) {
            return new ReloadResult(false, 0, 0, List.of());
        }
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            registry.counter(MetricNames.AUTH_RELOADS, "result", "failed").increment();
            throw e;
        }
        byte[] digest = KeyRing.sha256(content);
        KeyRing current = ring;
        if (loadedDigest != null && MessageDigest.isEqual(digest, loadedDigest)) {
            return new ReloadResult(false, current.size(), current.tenants().size(), current.problems());
        }
        List<String> lines = new String(content, StandardCharsets.UTF_8).lines().toList();
        KeyRing parsed = KeyRing.parse(lines);
        for (KeyRing.Problem p : parsed.problems()) {
            LOG.warnf("keys file %s: %s; line skipped", file, p);
        }
        if (parsed.size() == 0) {
            LOG.errorf("keys file %s holds no valid key: every API call will be refused with 401", file);
        }
        ring = parsed;
        loadedDigest = digest;
        registry.counter(MetricNames.AUTH_RELOADS, "result", "applied").increment();
        LOG.infof("keys file %s: %d keys for %d tenants", file, parsed.size(), parsed.tenants().size());
        return new ReloadResult(true, parsed.size(), parsed.tenants().size(), parsed.problems());
    }

    private void reloadQuietly() {
        try {
            reload();
        } catch (IOException | RuntimeException e) {
            LOG.errorf("keys file %s could not be re-read (%s); the previous %d keys stay in force",
                    file, e.toString(), ring.size());
        }
    }

    @PreDestroy
    void stop() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
