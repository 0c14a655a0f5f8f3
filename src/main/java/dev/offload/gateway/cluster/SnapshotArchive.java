package dev.offload.gateway.cluster;

import dev.offload.gateway.retrieval.CommittedIndex;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The bytes of one index snapshot: a zip stream of a {@link CommittedIndex}'s files (the Lucene
 * commit, with the chunk texts and vectors inside, and the vector graph persisted with it) under
 * their data-directory names, and last a {@value #MANIFEST} entry: format version, the stream
 * sequence the commit contains, the embedding model and dimension, and every file's size and
 * SHA-256, the whole manifest sealed by a SHA-256 of its own fields.
 *
 * <p>Written in one pass (each file's digest is taken while it is copied, so the manifest comes
 * last) and unpacked in one pass; nothing of an archive that fails a check is ever installed.
 * Plain Java, no threads of its own.
 */
public final class SnapshotArchive {
    /** Version of this layout; an archive of another version is refused. */
    public static final int FORMAT = 1;
    static final String MANIFEST = "MANIFEST.properties";
    /** Entries may only be files directly under {@code lucene/} or {@code graph/}: nothing escapes the target. */
    private static final Pattern ENTRY_NAME = Pattern.compile("(lucene|graph)/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}");

    private SnapshotArchive() {
    }

    /** One file of the archive as the manifest lists it. */
    public record Entry(String name, long size, String sha256) {
    }

    /** The manifest: what an archive holds and for which index. */
    public record Manifest(int format, long sequence, String model, int dimension, String node, long createdMillis,
                           List<Entry> files) {
        public Manifest {
            files = List.copyOf(files);
        }

        /** SHA-256 over every field but itself, in a fixed order: any edit of the manifest changes it. */
        String checksum() {
            StringBuilder b = new StringBuilder().append(format).append('\n').append(sequence).append('\n').append(model)
                    .append('\n').append(dimension).append('\n').append(node).append('\n').append(createdMillis).append('\n');
            for (Entry e : files) {
                b.append(e.name()).append(' ').append(e.size()).append(' ').append(e.sha256()).append('\n');
            }
            MessageDigest d = sha256();
            return HexFormat.of().formatHex(d.digest(b.toString().getBytes(StandardCharsets.UTF_8)));
        }

        byte[] toBytes() throws IOException {
            Properties p = new Properties();
            p.setProperty("format", Integer.toString(format));
            p.setProperty("sequence", Long.toString(sequence));
            p.setProperty("model", model);
            p.setProperty("dimension", Integer.toString(dimension));
            p.setProperty("node", node);
            p.setProperty("created", Long.toString(createdMillis));
            p.setProperty("files", Integer.toString(files.size()));
            for (int i = 0; i < files.size(); i++) {
                p.setProperty("file." + i + ".name", files.get(i).name());
                p.setProperty("file." + i + ".size", Long.toString(files.get(i).size()));
                p.setProperty("file." + i + ".sha256", files.get(i).sha256());
            }
            p.setProperty("checksum", checksum());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            p.store(out, "offload gateway index snapshot");
            return out.toByteArray();
        }

        static Manifest parse(byte[] bytes) throws IOException {
            Properties p = new Properties();
            p.load(new ByteArrayInputStream(bytes));
            try {
                int n = Integer.parseInt(required(p, "files"));
                List<Entry> files = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    files.add(new Entry(required(p, "file." + i + ".name"), Long.parseLong(required(p, "file." + i + ".size")),
                            required(p, "file." + i + ".sha256")));
                }
                Manifest m = new Manifest(Integer.parseInt(required(p, "format")), Long.parseLong(required(p, "sequence")),
                        required(p, "model"), Integer.parseInt(required(p, "dimension")), required(p, "node"),
                        Long.parseLong(required(p, "created")), files);
                if (!m.checksum().equals(required(p, "checksum"))) {
                    throw new IOException("the manifest fails its checksum");
                }
                return m;
            } catch (NumberFormatException e) {
                throw new IOException("the manifest is damaged: " + e.getMessage());
            }
        }

        private static String required(Properties p, String key) throws IOException {
            String v = p.getProperty(key);
            if (v == null) {
                throw new IOException("the manifest has no " + key);
            }
            return v;
        }
    }

    /**
     * Writes {@code commit} as an archive to {@code out} (not closed) and returns its manifest.
     *
     * @param model the embedding model of the index's vectors
     * @param node  the replica that took it (for the operator)
     */
    public static Manifest write(CommittedIndex commit, String model, String node, long nowMillis, OutputStream out)
            throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        // Lucene's files are compressed already and vectors do not compress: spend no CPU on it.
        zip.setLevel(Deflater.NO_COMPRESSION);
        List<Entry> entries = new ArrayList<>();
        byte[] buffer = new byte[1 << 16];
        for (CommittedIndex.File f : commit.files()) {
            zip.putNextEntry(new ZipEntry(f.name()));
            MessageDigest d = sha256();
            long size = 0;
            try (InputStream in = Files.newInputStream(f.path())) {
                for (int r; (r = in.read(buffer)) > 0; ) {
                    d.update(buffer, 0, r);
                    zip.write(buffer, 0, r);
                    size += r;
                }
            }
            zip.closeEntry();
            entries.add(new Entry(f.name(), size, HexFormat.of().formatHex(d.digest())));
        }
        Manifest m = new Manifest(FORMAT, commit.sequence(), model, commit.dimension(), node, nowMillis, entries);
        zip.putNextEntry(new ZipEntry(MANIFEST));
        zip.write(m.toBytes());
        zip.closeEntry();
        zip.finish();
        out.flush();
        return m;
    }

    /**
     * Unpacks an archive into {@code target} (created; expected empty) and checks it whole: the
     * manifest's own checksum, its format, model and dimension against what this gateway embeds
     * with, and every file's size and SHA-256 against the manifest, no file missing or extra.
     *
     * @throws IOException with the reason when any check fails (what was unpacked is left for the caller to delete)
     */
    public static Manifest unpack(InputStream in, Path target, String model, int dimension) throws IOException {
        Files.createDirectories(target);
        Map<String, Entry> found = new HashMap<>();
        byte[] manifest = null;
        byte[] buffer = new byte[1 << 16];
        ZipInputStream zip = new ZipInputStream(in);
        for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
            String name = e.getName();
            if (name.equals(MANIFEST)) {
                manifest = zip.readAllBytes();
                continue;
            }
            if (!ENTRY_NAME.matcher(name).matches() || found.containsKey(name)) {
                throw new IOException("unexpected entry " + name);
            }
            Path file = target.resolve(name);
            Files.createDirectories(file.getParent());
            MessageDigest d = sha256();
            long size = 0;
            try (OutputStream out = Files.newOutputStream(file)) {
                for (int r; (r = zip.read(buffer)) > 0; ) {
                    d.update(buffer, 0, r);
                    out.write(buffer, 0, r);
                    size += r;
                }
            }
            found.put(name, new Entry(name, size, HexFormat.of().formatHex(d.digest())));
        }
        if (manifest == null) {
            throw new IOException("no " + MANIFEST + " (a truncated upload?)");
        }
        Manifest m = Manifest.parse(manifest);
        if (m.format() != FORMAT) {
            throw new IOException("format " + m.format() + ", this gateway reads " + FORMAT);
        }
        if (!m.model().equalsIgnoreCase(model) || m.dimension() != dimension) {
            throw new IOException("vectors of " + m.model() + " (" + m.dimension() + " dimensions), this gateway embeds with "
                    + model + " (" + dimension + ")");
        }
        if (m.files().size() != found.size()) {
            throw new IOException(found.size() + " files, the manifest lists " + m.files().size());
        }
        for (Entry listed : m.files()) {
            Entry got = found.get(listed.name());
            if (got == null) {
                throw new IOException(listed.name() + " is missing");
            }
            if (!got.equals(listed)) {
                throw new IOException(listed.name() + " fails its checksum (" + got.size() + " bytes, SHA-256 " + got.sha256()
                        + "; the manifest says " + listed.size() + " bytes, " + listed.sha256() + ")");
            }
        }
        return m;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
