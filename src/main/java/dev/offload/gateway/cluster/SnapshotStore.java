package dev.offload.gateway.cluster;

import dev.offload.gateway.retrieval.CommittedIndex;
import dev.offload.gateway.retrieval.HybridIndex;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.ObjectStoreManagement;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.ObjectMeta;
import io.nats.client.api.ObjectStoreConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.impl.Headers;
import org.apache.lucene.util.IOUtils;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Index snapshots in a JetStream object store: one object per snapshot, named by the stream
 * sequence it contains ({@code index-<20 digits>}), its bytes a {@link SnapshotArchive}, its
 * headers the sequence, model, dimension and format so a replica picks one without downloading
 * it. Uploads stream the archive (no copy on the uploader's disk); a bootstrap streams the
 * download into its unpack under the data directory (no copy of the archive either), checks it
 * whole and only then installs.
 *
 * <p>Plain Java over a NATS connection (tests drive it against a real {@code nats-server}).
 * Blocking; call from one background thread at a time per instance.
 */
public final class SnapshotStore {
    private static final Logger LOG = Logger.getLogger(SnapshotStore.class);
    static final String PREFIX = "index-";
    static final String H_SEQUENCE = "Offload-Sequence";
    static final String H_MODEL = "Offload-Model";
    static final String H_DIMENSION = "Offload-Dimension";
    static final String H_FORMAT = "Offload-Format";
    private static final String STAGING = "bootstrap";
    /** The largest object-store chunk an upload uses ({@link #chunkSize()}). */
    static final int UPLOAD_CHUNK = 512 * 1024;

    /** A snapshot as the store lists it (from its headers). */
    public record Stored(String name, long sequence, String model, int dimension, int format, long size, Instant modified) {
    }

    /**
     * What a bootstrap installed: the snapshot's object, its manifest, and the time taken, whole
     * and by phase: the transfer (download, unpack and every check, one pass) and the install
     * (moving it into the data directory).
     */
    public record Installed(Stored snapshot, SnapshotArchive.Manifest manifest, long millis, long transferMillis,
                            long installMillis) {
    }

    private final Supplier<Connection> connection;
    private final String bucket;
    private final int replicas;

    /**
     * @param connection the connection if it is up now, else null
     * @param replicas   JetStream replicas of the bucket (created with them if missing)
     */
    public SnapshotStore(Supplier<Connection> connection, String bucket, int replicas) {
        this.connection = connection;
        this.bucket = bucket;
        this.replicas = replicas;
    }

    static String objectName(long sequence) {
        return String.format("%s%020d", PREFIX, sequence);
    }

    private ObjectStore store() throws IOException, JetStreamApiException {
        Connection c = connection.get();
        if (c == null) {
            throw new IOException("NATS is not reachable");
        }
        ObjectStoreManagement oms = c.objectStoreManagement();
        try {
            oms.getStatus(bucket);
        } catch (JetStreamApiException notFound) {
            if (notFound.getErrorCode() != 404) {
                throw notFound;
            }
            try {
                oms.create(ObjectStoreConfiguration.builder(bucket).storageType(StorageType.File).replicas(replicas)
                        .description("offload gateway index snapshots").build());
            } catch (JetStreamApiException e) {
                if (e.getApiErrorCode() != 10058) { // another replica created it meanwhile
                    throw e;
                }
            }
        }
        return c.objectStore(bucket);
    }

    /** The snapshots in the store, newest (highest sequence) first. */
    public List<Stored> list() throws IOException, JetStreamApiException, InterruptedException {
        List<Stored> out = new ArrayList<>();
        for (ObjectInfo i : store().getList()) {
            if (i.isDeleted() || !i.getObjectName().startsWith(PREFIX)) {
                continue;
            }
            Headers h = i.getHeaders();
            try {
                out.add(new Stored(i.getObjectName(), Long.parseLong(header(h, H_SEQUENCE)), header(h, H_MODEL),
                        Integer.parseInt(header(h, H_DIMENSION)), Integer.parseInt(header(h, H_FORMAT)), i.getSize(),
                        i.getModified() == null ? Instant.EPOCH : i.getModified().toInstant()));
            } catch (RuntimeException e) {
                LOG.warnf("object %s in %s has no readable snapshot headers; ignored", i.getObjectName(), bucket);
            }
        }
        out.sort(Comparator.comparingLong(Stored::sequence).reversed());
        return out;
    }

    private static String header(Headers h, String key) {
        String v = h == null ? null : h.getFirst(key);
        if (v == null) {
            throw new IllegalArgumentException("no " + key);
        }
        return v;
    }

    /**
     * Uploads {@code commit} as the snapshot of its sequence (replacing one of the same sequence).
     * The archive is written by a second thread into a pipe the upload reads; if writing fails
     * the object is deleted again, so no half archive stays listed.
     */
    public Stored upload(CommittedIndex commit, String model, String node)
            throws IOException, JetStreamApiException, InterruptedException {
        ObjectStore os = store();
        String name = objectName(commit.sequence());
        Headers h = new Headers().put(H_SEQUENCE, Long.toString(commit.sequence())).put(H_MODEL, model)
                .put(H_DIMENSION, Integer.toString(commit.dimension())).put(H_FORMAT, Integer.toString(SnapshotArchive.FORMAT));
        PipedInputStream in = new PipedInputStream(1 << 20);
        PipedOutputStream pipe = new PipedOutputStream(in);
        CompletableFuture<SnapshotArchive.Manifest> written = new CompletableFuture<>();
        Thread writer = new Thread(() -> {
            try (OutputStream out = pipe) {
                written.complete(SnapshotArchive.write(commit, model, node, System.currentTimeMillis(), out));
            } catch (IOException | RuntimeException e) {
                written.completeExceptionally(e);
            }
        }, "snapshot-archive");
        writer.setDaemon(true);
        writer.start();
        ObjectInfo info;
        try (InputStream source = fullReads(in)) {
            info = os.put(ObjectMeta.builder(name).headers(h).description("index snapshot at sequence " + commit.sequence())
                    .chunkSize(chunkSize()).build(), source);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        } finally {
            writer.join(); // the pipe is closed by now: a writer still blocked on it fails and ends
        }
        try {
            written.join();
        } catch (RuntimeException e) {
            deleteQuietly(os, name);
            throw new IOException("writing the snapshot archive failed: " + e.getCause(), e.getCause());
        }
        return new Stored(name, commit.sequence(), model, commit.dimension(), SnapshotArchive.FORMAT, info.getSize(),
                Instant.now());
    }

    /**
     * {@code in} with reads that fill the caller's buffer unless the stream ends: jnats sends what
     * one read returns as one chunk, and a pipe returns what its writer has put in so far, so
     * without this the chunks of an upload were as small as the writer's pace made them (a 30 KB
     * object went up in 3 chunks under load, SnapshotStoreNatsTest).
     */
    static InputStream fullReads(InputStream in) {
        return new java.io.FilterInputStream(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                int n = in.readNBytes(b, off, len);
                return n == 0 ? -1 : n;
            }
        };
    }

    /**
     * The object-store chunk size of an upload: jnats publishes chunk after chunk, each waiting for
     * its JetStream acknowledgement (a quorum at R3), so the chunk count is the upload's round
     * trips. Its default, 128 KiB, made a 346 MB snapshot 2,641 round trips (30 s, 11.5 MB/s, while
     * a download of it ran at 200 MB/s); 512 KiB makes it a quarter, and stays under the server's
     * largest message (1 MB by default; a smaller {@code max_payload} lowers it, keeping room for the headers).
     */
    int chunkSize() throws IOException {
        Connection c = connection.get();
        if (c == null) {
            throw new IOException("NATS is not reachable");
        }
        long max = c.getServerInfo().getMaxPayload();
        return (int) Math.max(16 * 1024, Math.min(UPLOAD_CHUNK, max - 8 * 1024));
    }

    private static void deleteQuietly(ObjectStore os, String name) {
        try {
            os.delete(name);
        } catch (IOException | JetStreamApiException e) {
            LOG.warnf("deleting the failed snapshot %s failed (%s); a bootstrap refuses it (no manifest)", name, e.getMessage());
        }
    }

    /** Deletes every snapshot but the newest {@code keep}; returns those left, newest first. */
    public List<Stored> prune(int keep) throws IOException, JetStreamApiException, InterruptedException {
        List<Stored> all = list();
        int k = Math.max(1, keep);
        if (all.size() > k) {
            ObjectStore os = store();
            for (Stored s : all.subList(k, all.size())) {
                os.delete(s.name());
                LOG.infof("snapshot %s (sequence %d) deleted: %d newer kept", s.name(), s.sequence(), k);
            }
        }
        return all.subList(0, Math.min(k, all.size()));
    }

    /** Deletes the snapshot object {@code name} (tests, operators). */
    public void delete(String name) throws IOException, JetStreamApiException {
        store().delete(name);
    }

    /** Downloads snapshot {@code name}'s bytes into {@code out} as stored. */
    public void download(String name, OutputStream out) throws IOException, JetStreamApiException, InterruptedException {
        try {
            store().get(name, out);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * Downloads snapshot {@code name} and unpacks it into {@code target} in one pass: the download
     * (a second thread) writes into a pipe that {@link SnapshotArchive#unpack} reads, so the archive
     * is never written to disk whole before being unpacked from there (at 100k chunks that was a
     * second copy of a few hundred MB and a third pass over it). Nothing is installed from here:
     * the caller moves {@code target} in only after every check passed, and a failed download
     * (the client's digest of the whole object included) refuses the snapshot even when what
     * arrived unpacked cleanly.
     */
    private SnapshotArchive.Manifest downloadUnpacked(String name, Path target, String model, int dimension)
            throws IOException, InterruptedException {
        PipedInputStream in = new PipedInputStream(1 << 20);
        PipedOutputStream pipe = new PipedOutputStream(in);
        CompletableFuture<Void> downloaded = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (OutputStream out = pipe) {
                download(name, out);
                downloaded.complete(null);
            } catch (Exception e) {
                downloaded.completeExceptionally(e);
            }
        }, "snapshot-download");
        reader.setDaemon(true);
        reader.start();
        SnapshotArchive.Manifest m;
        try (InputStream source = in) {
            m = SnapshotArchive.unpack(source, target, model, dimension);
            source.transferTo(OutputStream.nullOutputStream()); // the object's end: the client checks its digest there
        } catch (IOException e) {
            in.close(); // a download still writing fails on the closed pipe and ends
            reader.join();
            Throwable cause = downloadFailure(downloaded);
            throw cause == null ? e : new IOException("the download failed: " + cause.getMessage(), cause);
        }
        reader.join();
        Throwable cause = downloadFailure(downloaded);
        if (cause != null) {
            throw new IOException("the download failed: " + cause.getMessage(), cause);
        }
        return m;
    }

    /** Why the download ended badly, or null; a download cut short by a closed pipe is not its own failure. */
    private static Throwable downloadFailure(CompletableFuture<Void> downloaded) {
        if (!downloaded.isCompletedExceptionally()) {
            return null;
        }
        try {
            downloaded.join();
            return null;
        } catch (java.util.concurrent.CompletionException e) {
            Throwable t = e.getCause();
            return t instanceof IOException && "Pipe closed".equals(t.getMessage()) ? null : t;
        }
    }

    /**
     * Installs the newest snapshot that fits into {@code dataDir} (before its index is opened):
     * newer than {@code committedSequence}, not past the stream's last sequence (else it belongs
     * to another stream), not older than the stream's first sequence minus one (else the stream
     * no longer holds the records after it), of this model and dimension, and passing every
     * check of {@link SnapshotArchive#unpack}. A snapshot that does not is skipped for the next
     * older one, its reason added to {@code refusals}.
     *
     * @return what was installed, or empty when no snapshot fits (the data directory is unchanged)
     */
    public Optional<Installed> install(Path dataDir, long committedSequence, long streamFirst, long streamLast,
                                       String model, int dimension, List<String> refusals)
            throws IOException, JetStreamApiException, InterruptedException {
        Path staging = dataDir.resolve(STAGING);
        for (Stored s : list()) {
            if (s.sequence() <= committedSequence) {
                break; // older than what this replica holds: it replays the stream instead
            }
            String refused = null;
            if (s.sequence() > streamLast) {
                refused = "sequence " + s.sequence() + " is past the stream's last " + streamLast + " (another stream's?)";
            } else if (s.sequence() + 1 < streamFirst) {
                refused = "the stream starts at " + streamFirst + ", no longer holding what follows sequence " + s.sequence();
            } else if (!s.model().equalsIgnoreCase(model) || s.dimension() != dimension) {
                refused = "vectors of " + s.model() + " (" + s.dimension() + " dimensions), this gateway embeds with "
                        + model + " (" + dimension + ")";
            }
            if (refused == null) {
                long t0 = System.nanoTime();
                IOUtils.rm(staging);
                try {
                    Path unpacked = Files.createDirectories(staging).resolve(s.name());
                    SnapshotArchive.Manifest m = downloadUnpacked(s.name(), unpacked, model, dimension);
                    if (m.sequence() != s.sequence()) {
                        throw new IOException("its manifest is for sequence " + m.sequence());
                    }
                    long t1 = System.nanoTime();
                    HybridIndex.installSnapshot(dataDir, unpacked);
                    long t2 = System.nanoTime();
                    return Optional.of(new Installed(s, m, (t2 - t0) / 1_000_000, (t1 - t0) / 1_000_000,
                            (t2 - t1) / 1_000_000));
                } catch (IOException e) {
                    refused = e.getMessage();
                } finally {
                    IOUtils.rm(staging);
                }
            }
            String why = s.name() + " refused: " + refused;
            LOG.warnf("snapshot %s", why);
            refusals.add(why);
        }
        return Optional.empty();
    }

    /**
     * Where the index stream may be purged up to (the first sequence to keep), or 0 for nowhere:
     * every record after the oldest kept snapshot stays (so each kept snapshot can still be
     * completed from the stream, also when a newer one turns out damaged), every record a live
     * member has not applied yet stays (it follows the stream and never has to restart from a
     * snapshot), and {@code margin} records more below that.
     *
     * @param oldestKeptSnapshot the sequence of the oldest snapshot kept in the store
     * @param slowestMember      the lowest applied sequence a live member reports; -1 when one does not report it
     * @param margin             records kept below that point; negative: never purge
     */
    public static long retainFrom(long oldestKeptSnapshot, long slowestMember, long margin) {
        if (margin < 0 || slowestMember < 0 || oldestKeptSnapshot <= 0) {
            return 0;
        }
        long keep = Math.min(oldestKeptSnapshot, slowestMember) + 1 - margin;
        return keep > 1 ? keep : 0;
    }
}
